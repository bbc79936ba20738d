// The CLI's code cache (scripts/cli-cache.mjs): bin/vmlab.mjs loads the bundle with the bytecode of
// the previous run of the same command. A cache is used only for the bundle it was made from and
// only when undamaged; anything else is ignored and rewritten at exit, and the run goes on as if
// there had been none.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/build';

const LOADER = pathToFileURL(join(REPO_ROOT, 'scripts', 'cli-cache.mjs')).href;
const BUILD = pathToFileURL(join(REPO_ROOT, 'scripts', 'build-cli.mjs')).href;
/** Prints a line and stops the machine with exit code 0 (the test finisher). */
const HELLO_SOURCE = `.text
.globl _start
_start:
  la a1, msg
  li a2, 0x10000000
1: lbu a0, 0(a1)
  beqz a0, 2f
  sb a0, 0(a2)
  addi a1, a1, 1
  j 1b
2: li a0, 0x5555
  li a2, 0x00100000
  sw a0, 0(a2)
3: j 3b
.data
msg: .asciz "Hello from the cache test\\n"
`;

/** Loads `bundle` with the cache file `cache` in a process of its own and calls its main with `args`. */
function load(bundle: string, cache: string, args: string[] = []): { cached: boolean; out: string; stderr: string } {
  const code = `const { loadCli } = await import(${JSON.stringify(LOADER)});
    const { exports, cached } = loadCli(${JSON.stringify(bundle)}, ${JSON.stringify(cache)});
    process.stdout.write(JSON.stringify({ cached }) + '\\n');
    process.exitCode = await exports.main(${JSON.stringify(args)});`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8', timeout: 120_000, input: '' });
  expect(r.status, r.stderr).toBe(0);
  const [first, ...rest] = r.stdout.split('\n');
  return { cached: (JSON.parse(first) as { cached: boolean }).cached, out: rest.join('\n'), stderr: r.stderr };
}

/** A bundle whose main prints `word`; bundles of words of one length have one length. */
function bundle(path: string, word: string): void {
  writeFileSync(path, `function greet(w) { return 'said ' + w; }\nexports.main = async () => { console.log(greet('${word}')); return 0; };\n`);
}

describe('the CLI code cache', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vmlab-cli-cache-'));
  const path = join(dir, 'cli.cjs');
  const cache = join(dir, 'cache', 'run.bin');

  it('is written by the first run and used by the next', () => {
    bundle(path, 'one');
    expect(load(path, cache)).toMatchObject({ cached: false, out: 'said one\n' });
    expect(existsSync(cache)).toBe(true);
    const written = readFileSync(cache);
    expect(load(path, cache)).toMatchObject({ cached: true, out: 'said one\n' });
    expect(readFileSync(cache).equals(written)).toBe(true);
  });

  it('is not used for a rebuilt bundle, even of the same length, and is made again for it', () => {
    bundle(path, 'one');
    load(path, cache);
    const before = readFileSync(cache);
    bundle(path, 'two');
    // V8's own check compares only the source's length: the old bytecode would print "said one".
    expect(load(path, cache)).toMatchObject({ cached: false, out: 'said two\n' });
    expect(readFileSync(cache).equals(before)).toBe(false);
    expect(load(path, cache)).toMatchObject({ cached: true, out: 'said two\n' });
  });

  it.each([
    ['a byte of V8 data changed', (b: Buffer) => { b[b.length >> 1] ^= 0x40; }],
    ['cut short', (b: Buffer) => b.subarray(0, b.length - 100)],
    ['empty', () => Buffer.alloc(0)],
    ['not a cache', (b: Buffer) => Buffer.alloc(b.length, 0x5a)],
  ] as const)('is ignored and made again when damaged: %s', (_name, damage) => {
    bundle(path, 'six');
    load(path, cache);
    const good = readFileSync(cache);
    const bad = Buffer.from(good);
    writeFileSync(cache, damage(bad) ?? bad);
    expect(load(path, cache)).toMatchObject({ cached: false, out: 'said six\n' });
    expect(load(path, cache)).toMatchObject({ cached: true, out: 'said six\n' });
  });

  it('holds a bundle that is strict code, as the ES modules it is built from', async () => {
    // A banner before esbuild's "use strict" would make that a plain statement and the bundle sloppy.
    const { ensureCliBuilt } = (await import(BUILD)) as { ensureCliBuilt: () => Promise<string> };
    const code = readFileSync(new URL(await ensureCliBuilt()), 'utf8');
    expect(code.startsWith('"use strict";')).toBe(true);
  }, 120_000);

  it('holds a bundle of ASCII only, so that V8 keeps its source as a one-byte string', async () => {
    const { ensureCliBuilt, asciiOnly } = (await import(BUILD)) as { ensureCliBuilt: () => Promise<string>; asciiOnly: (text: string) => string };
    const bytes = readFileSync(new URL(await ensureCliBuilt()));
    expect(bytes.findIndex((b) => b > 0x7f)).toBe(-1);
    // Comments keep such characters from the sources (esbuild escapes them elsewhere).
    expect(asciiOnly('// spec \u00a73.1 \u2014 ok\nconst s = "\\u00a7";')).toBe('// spec \\u00a73.1 \\u2014 ok\nconst s = "\\u00a7";');
  }, 120_000);

  it('is used by `vmlab run` after a run (the flags V8 stamps it with are set before the load) and a damaged one changes nothing', async () => {
    const { ensureCliBuilt } = (await import(BUILD)) as { ensureCliBuilt: () => Promise<string> };
    const cli = new URL(await ensureCliBuilt()).pathname;
    const runCache = join(dir, 'cli-run.bin');
    const HELLO = join(dir, 'hello.S');
    writeFileSync(HELLO, HELLO_SOURCE);
    const first = load(cli, runCache, ['run', HELLO]);
    expect(first.cached).toBe(false);
    expect(first.out).toBe('Hello from the cache test\n');
    const second = load(cli, runCache, ['run', HELLO]);
    expect(second).toMatchObject({ cached: true, out: first.out });
    const bytes = readFileSync(runCache);
    for (let i = bytes.length >> 2; i < bytes.length; i += 4096) bytes[i] ^= 0xff;
    writeFileSync(runCache, bytes);
    expect(load(cli, runCache, ['run', HELLO])).toMatchObject({ cached: false, out: first.out });
  }, 120_000);
});
