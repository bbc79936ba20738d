// package.json's `engines` tells the truth: every package in package-lock.json accepts the oldest
// Node that `engines` allows (so `npm install` prints no EBADENGINE warning on it), and the README
// names the same Node.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import semver from 'semver';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/build';

const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { engines: { node: string } };
const lock = JSON.parse(readFileSync(join(REPO_ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version?: string; engines?: { node?: string } | string[] }> };

describe('engines', () => {
  const oldest = semver.minVersion(pkg.engines.node)!.version;

  it('every locked package accepts the oldest Node that engines allows', () => {
    const refusing = Object.entries(lock.packages)
      .filter(([path, p]) => path !== '' && p.engines !== undefined && !Array.isArray(p.engines) && p.engines.node !== undefined)
      .filter(([, p]) => !semver.satisfies(oldest, (p.engines as { node: string }).node))
      .map(([path, p]) => `${path}@${p.version}: node ${(p.engines as { node: string }).node}`);
    expect(refusing).toEqual([]);
  });

  it('the Node running the tests is one engines allows, and the README names the oldest', () => {
    expect(semver.satisfies(process.versions.node, pkg.engines.node)).toBe(true);
    expect(readFileSync(join(REPO_ROOT, 'README.md'), 'utf8')).toContain(`Node.js ${oldest.replace(/\.0$/, '')}`);
  });
});
