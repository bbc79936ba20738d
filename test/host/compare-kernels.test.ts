// compare.run with several kernels and disks (issue 19): the structure lab's monolithic kernel and
// microkernel side by side through the lab service, as the compare view asks for them. Each run
// boots a fresh copy of the workspace's disk image, which stays unchanged; rows name their kernel,
// are relative to the first kernel's bare run, and give the same figures as the engine's
// compareKernels on the same kernels.
import { cpSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assembleFile } from '../../src/cli/kernel-input';
import { RawDisk } from '../../src/engine/disk/raw';
import { MemoryByteStore } from '../../src/engine/disk/types';
import { compareKernels } from '../../src/engine/vmm/compare';
import { LabService } from '../../src/host/lab-service';
import type { CompareResult } from '../../src/shared/inspect-api';
import { REPO_ROOT } from '../support/build';

const LAB = join(REPO_ROOT, 'labs', 'structure');
const EXPECTED = readFileSync(join(LAB, 'expected-output.txt'), 'latin1');
let lab: LabService;
let root: string;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'vmlab-compare-kernels-'));
  cpSync(LAB, join(root, 'structure'), { recursive: true });
  lab = await LabService.create({ workspace: root });
  await lab.call('disk.create', { path: 'structure.img', format: 'raw', size: 64 * 1024 });
});

afterAll(() => lab.dispose());

describe('compare.run with several kernels', () => {
  it('runs both kernels of the structure lab on fresh copies of one disk, side by side', async () => {
    const before = readFileSync(join(root, 'structure.img'));
    const result = (await lab.call('compare.run', { kernel: 'structure/mono.S', kernels: ['structure/micro.S'], disks: [{ path: 'structure.img' }], modes: ['bare', 'trap'] })) as CompareResult;
    expect(result.rows.map((r) => [r.kernel, r.mode, r.end, r.exitCode, r.sameOutput])).toEqual([
      ['structure/mono.S', 'bare', 'exit', 0, true], ['structure/mono.S', 'trap', 'exit', 0, true],
      ['structure/micro.S', 'bare', 'exit', 0, true], ['structure/micro.S', 'trap', 'exit', 0, true],
    ]);
    for (const r of result.rows) expect(r.output).toBe(EXPECTED);
    expect(readFileSync(join(root, 'structure.img')).equals(before)).toBe(true);
    // The same figures as the engine's own comparison of the two kernels.
    const kernels = ['mono', 'micro'].map((k) => ({ name: k, bytes: assembleFile(join(LAB, `${k}.S`)).elf! }));
    const engine = compareKernels(kernels, { memSize: 16 << 20, modes: ['bare', 'trap'], warmUpSteps: 0, disks: () => [{ device: new RawDisk(new MemoryByteStore(new Uint8Array(64 * 1024))) }] });
    expect(result.rows.map((r) => [r.instructions, r.traps, r.exits, r.modeledCycles, r.relative.instructions])).toEqual(engine.map((r) => [r.instructions, r.traps, r.exits, r.modeledCycles, r.relative.instructions]));
    expect(result.rows[2].relative.instructions).toBeGreaterThan(1);
  });

  it('refuses a disk outside the workspace and more than four kernels, in one line', async () => {
    await expect(lab.call('compare.run', { kernel: 'structure/mono.S', disks: [{ path: '../outside.img' }] })).rejects.toThrow(/outside|not found|no such/i);
    await expect(lab.call('compare.run', { kernel: 'structure/mono.S', kernels: ['a.S', 'b.S', 'c.S', 'd.S'] })).rejects.toThrow(/kernels/);
  });
});
