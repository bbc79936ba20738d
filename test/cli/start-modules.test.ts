// What `vmlab run` loads at start. The CLI's bundle (scripts/build-cli.mjs) evaluates a module that
// only a dynamic import reaches when that import runs, and requires its packages then; every start
// pays for loading what it requires, so code that only some runs need is imported when the run asks
// for it. A probe (test/support/module-probe.mjs) lists the packages the process loaded.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/build';

const VMLAB = join(REPO_ROOT, 'bin', 'vmlab.mjs');
const PROBE = pathToFileURL(join(REPO_ROOT, 'test', 'support', 'module-probe.mjs')).href;
const HELLO = join(REPO_ROOT, 'labs', 'hello', 'hello.S');

/**
 * The packages `vmlab args` loaded, as the probe saw them at exit (node's own modules with
 * `builtins`); the command must succeed, and a run must print hello.S's banner.
 */
function packagesOf(args: string[], builtins = false): string[] {
  const r = spawnSync(process.execPath, [VMLAB, ...args], {
    encoding: 'utf8', timeout: 120_000, input: '',
    env: { ...process.env, NODE_OPTIONS: `--import=${PROBE}` },
  });
  if (args[0] === 'run') expect(r.stdout).toContain('Hello');
  else expect(r.status, r.stderr).toBe(0);
  const seen = (builtins ? /module-probe-builtins: (.*)\n/ : /module-probe: (.*)\n/).exec(r.stderr);
  expect(seen, r.stderr).not.toBeNull();
  return seen![1].split(' ');
}

describe('vmlab run at start', () => {
  it('requires neither commander (bundled, scripts/build-cli.mjs), the disk formats (fflate) nor the schemas (zod) for a run without disks', () => {
    const packages = packagesOf(['run', HELLO]);
    expect(packages).not.toContain('commander');
    expect(packages).not.toContain('fflate');
    expect(packages).not.toContain('zod');
  }, 120_000);

  it('does not load perf_hooks (the global `performance`, about 11 M host instructions) nor child_process (commander requires it at its first spawn)', () => {
    const builtins = packagesOf(['run', HELLO], true);
    expect(builtins).toContain('fs');
    expect(builtins).not.toContain('perf_hooks');
    expect(builtins).not.toContain('child_process');
  }, 120_000);

  it('does not load fflate for a run with a raw disk: the bundle requires it at the first inflate', () => {
    const image = join(mkdtempSync(join(tmpdir(), 'vmlab-start-')), 'disk.img');
    writeFileSync(image, new Uint8Array(64 * 1024));
    expect(packagesOf(['run', HELLO, '--disk', `${image},format=raw`])).not.toContain('fflate');
  }, 120_000);

  it('loads fflate when a compressed qcow2 cluster is read (the probe sees a lazily loaded package)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vmlab-start-'));
    const data = Buffer.alloc(64 * 1024);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7) >> 5;
    writeFileSync(join(dir, 'disk.raw'), data);
    const made = spawnSync('qemu-img', ['convert', '-c', '-O', 'qcow2', join(dir, 'disk.raw'), join(dir, 'disk.qcow2')], { encoding: 'utf8' });
    expect(made.status, made.stderr).toBe(0);
    expect(packagesOf(['disk', 'convert', join(dir, 'disk.qcow2'), join(dir, 'out.raw'), '-O', 'raw'])).toContain('fflate');
    expect(readFileSync(join(dir, 'out.raw')).equals(data)).toBe(true);
  }, 120_000);
});
