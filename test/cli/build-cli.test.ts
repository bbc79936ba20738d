// bin/vmlab.mjs rebuilds the CLI bundle when a source is newer than it: scripts/build-cli.mjs's
// newestSource walks the tree, checked here on a folder of its own.
import { mkdirSync, mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error a plain JavaScript module of the build scripts, without type declarations
import { newestSource } from '../../scripts/build-cli.mjs';

describe('the CLI build check', () => {
  it('finds the newest .ts file at any depth and ignores other files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vmlab-newest-'));
    mkdirSync(join(dir, 'a', 'b', 'c'), { recursive: true });
    const files: [string, number][] = [['top.ts', 1000], ['a/one.ts', 2000], ['a/b/c/deep.ts', 5000], ['a/b/later.json', 9000], ['a/b/two.ts', 3000]];
    for (const [name, seconds] of files) {
      writeFileSync(join(dir, name), '');
      utimesSync(join(dir, name), seconds, seconds);
    }
    expect(newestSource(dir)).toBe(5_000_000);
    utimesSync(join(dir, 'top.ts'), 7000, 7000);
    expect(newestSource(dir)).toBe(7_000_000);
  });
});
