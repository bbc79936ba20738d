// What `vmlab run` loads at start. The CLI's bundle (scripts/build-cli.mjs) evaluates a module that
// only a dynamic import reaches when that import runs, and requires its packages then; every start
// pays for loading what it requires, so code that only some runs need is imported when the run asks
// for it. A probe (test/support/module-probe.mjs) lists the packages the process loaded.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/build';

const VMLAB = join(REPO_ROOT, 'bin', 'vmlab.mjs');
const PROBE = pathToFileURL(join(REPO_ROOT, 'test', 'support', 'module-probe.mjs')).href;
const HELLO = join(REPO_ROOT, 'labs', 'hello', 'hello.S');

/** The packages `vmlab args` loaded, as the probe saw them at exit (node's own modules with `builtins`). */
function packagesOf(args: string[], builtins = false): string[] {
  const r = spawnSync(process.execPath, [VMLAB, ...args], {
    encoding: 'utf8', timeout: 120_000, input: '',
    env: { ...process.env, NODE_OPTIONS: `--import=${PROBE}` },
  });
  expect(r.stdout).toContain('Hello');
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

  it('does not load perf_hooks (the global `performance`, about 11 M host instructions)', () => {
    const builtins = packagesOf(['run', HELLO], true);
    expect(builtins).toContain('fs');
    expect(builtins).not.toContain('perf_hooks');
  }, 120_000);

  it('loads the disk formats for a run with a disk (the probe sees a lazily loaded package)', () => {
    const image = join(mkdtempSync(join(tmpdir(), 'vmlab-start-')), 'disk.img');
    writeFileSync(image, new Uint8Array(64 * 1024));
    expect(packagesOf(['run', HELLO, '--disk', `${image},format=raw`])).toContain('fflate');
  }, 120_000);
});
