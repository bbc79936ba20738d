// package.json's `engines` tells the truth: every package in package-lock.json accepts the oldest
// Node that `engines` allows, except the desktop runtime's own packages, which the README names
// with the Node they ask for; and the README names the oldest Node.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import semver from 'semver';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/build';

const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { engines: { node: string } };
const lock = JSON.parse(readFileSync(join(REPO_ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version?: string; engines?: { node?: string } | string[] }> };

describe('engines', () => {
  const oldest = semver.minVersion(pkg.engines.node)!.version;

  const refusing = (): [string, string][] =>
    Object.entries(lock.packages)
      .filter(([path, p]) => path !== '' && p.engines !== undefined && !Array.isArray(p.engines) && p.engines.node !== undefined)
      .filter(([, p]) => !semver.satisfies(oldest, (p.engines as { node: string }).node))
      .map(([path, p]) => [path.replace(/^.*node_modules\//, ''), (p.engines as { node: string }).node]);

  it('every locked package accepts the oldest Node that engines allows, but the desktop runtime\'s own', () => {
    // Electron 45 and its download helpers: no Electron both installs offline and accepts Node 20.
    const DESKTOP_RUNTIME = ['electron', '@electron/get', '@electron-internal/extract-zip'];
    expect(refusing().map(([name]) => name).filter((n) => !DESKTOP_RUNTIME.includes(n))).toEqual([]);
    const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8').replace(/\s+/g, ' ');
    for (const [name, range] of refusing()) {
      expect(readme).toContain(`\`${name}\``);
      expect(readme).toContain(`Node.js ${semver.minVersion(range)!.version.replace(/\.0$/, '')}`);
    }
  });

  it('electron installs without running a download at install time (the lab must install offline)', () => {
    const electron = lock.packages['node_modules/electron'] as { hasInstallScript?: boolean };
    expect(electron.hasInstallScript).toBeUndefined();
  });

  it('the Node running the tests is one engines allows, and the README names the oldest', () => {
    expect(semver.satisfies(process.versions.node, pkg.engines.node)).toBe(true);
    expect(readFileSync(join(REPO_ROOT, 'README.md'), 'utf8')).toContain(`Node.js ${oldest.replace(/\.0$/, '')}`);
  });
});
