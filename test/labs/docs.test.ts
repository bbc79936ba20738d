// The project's documents stand alone and their commands work: no document cites a file outside the
// repository, no built mode is called unbuilt, the labs' commands run from the repository's
// folder and write only where git ignores it, and the e2e tests refresh the docs' pictures only
// when asked (VMLAB_SCREENSHOTS=1).
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/build';

const LABS = ['labs/README.md', ...readdirSync(join(REPO_ROOT, 'labs'), { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => join('labs', e.name, 'README.md'))];
const DOCS = ['README.md', 'SECURITY.md', ...readdirSync(join(REPO_ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => join('docs', f)), ...LABS];
const read = (file: string): string => readFileSync(join(REPO_ROOT, file), 'utf8');

/** The `npx vmlab ...` commands of a document: shell code blocks and inline code. */
function vmlabCommands(text: string): string[] {
  const lines = [...text.matchAll(/```sh\n([^]*?)```/g)].flatMap((m) => m[1].split('\n'));
  const inline = [...text.matchAll(/`(npx vmlab [^`]+)`/g)].map((m) => m[1]);
  return [...lines, ...inline].flatMap((l) => l.split('&&')).map((l) => l.replace(/#.*/, '').trim()).filter((l) => l.startsWith('npx vmlab'));
}

/** Files a command writes: `asm -o FILE`, `disk create FILE`, `disk convert IN OUT`. */
function outputs(command: string): string[] {
  const w = command.split(/\s+/);
  const out: string[] = [];
  const o = w.indexOf('-o');
  if (w[2] === 'asm' && o > 0) out.push(w[o + 1]);
  if (w[2] === 'disk' && w[3] === 'create') out.push(w[4]);
  if (w[2] === 'disk' && w[3] === 'convert') out.push(w[5]);
  return out;
}

describe('the documents', () => {
  it.each(DOCS)('%s cites nothing outside the repository', (file) => {
    expect(read(file)).not.toMatch(/\.\.\/shared|DESIGN(\.md| \d| section|'s)/);
  });

  it('no source, test or lab file cites a document outside the repository', () => {
    const files = spawnSync('git', ['ls-files', 'src', 'test', 'bench', 'scripts', 'e2e', 'labs', '.ci'], { cwd: REPO_ROOT, encoding: 'utf8' }).stdout.split('\n');
    const offenders = files.filter((f) => f !== '' && f !== 'test/labs/docs.test.ts' && !f.endsWith('.png'))
      .filter((f) => /shared\/(DESIGN|STYLE)|DESIGN(\.md| \d| section|'s)/.test(read(f)));
    expect(files.length).toBeGreaterThan(100);
    expect(offenders).toEqual([]);
  });

  // Every mode of the VMM is built (emulate, trap, bt, pv, hw): a document that still calls one
  // "not built yet" or "planned" is stale.
  it.each(DOCS)('%s calls no built mode unbuilt', (file) => {
    const paragraphs = read(file).split(/\n\s*\n/).filter((p) => /`(bt|pv|hw)`|--mode (bt|pv|hw)/.test(p));
    for (const p of paragraphs) expect(p, p).not.toMatch(/not built yet|not build yet|not yet built|does not build yet|is planned|are planned/);
  });

  it('the labs\' commands write their files only where git ignores them', () => {
    const written = LABS.flatMap((f) => vmlabCommands(read(f)))
      .concat(vmlabCommands(read('README.md')).filter((c) => c.includes('labs/')))
      .flatMap(outputs);
    expect(written.length).toBeGreaterThan(5);
    const tracked = written.filter((f) => spawnSync('git', ['check-ignore', '-q', f], { cwd: REPO_ROOT }).status !== 0);
    expect(tracked).toEqual([]);
  });

  it('the hello lab\'s shell command runs from the repository\'s folder', () => {
    const command = vmlabCommands(read('labs/hello/README.md')).find((c) => c.startsWith('npx vmlab run'));
    expect(command).toBe('npx vmlab run labs/hello/hello.S');
    const args = command!.split(/\s+/).slice(2);
    const r = spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'vmlab.mjs'), ...args], { cwd: REPO_ROOT, input: 'hi', encoding: 'latin1', timeout: 60_000 });
    expect(r.stdout).toBe('Hello from vmlab! Type something and I will echo it.\r\nhi');
  });

  it('the e2e tests write docs/screenshots only through docShot (VMLAB_SCREENSHOTS=1)', () => {
    const specs = readdirSync(join(REPO_ROOT, 'e2e')).filter((f) => f.endsWith('.ts'));
    const writers = specs.filter((f) => /docs\/screenshots/.test(read(join('e2e', f)).replace(/^\/\/.*$/gm, '')));
    expect(writers).toEqual(['support.ts']);
    expect(read('e2e/support.ts')).toMatch(/if \(process\.env\.VMLAB_SCREENSHOTS === '1'\)/);
  });
});
