// Co-simulation of bt against emulate (test/support/mode-cosim.ts): every program of the machine
// corpus and the labs run in a bt VM and in an emulate VM, and at every exit and every callout of
// the bt VM its guest-visible state (pc, x1..x31, virtual privilege, the virtual CSRs, retired
// instructions, the guest's clock) equals the emulate VM's at the same step of the guest's clock;
// so do the final state, the console output and the exit code. The project's kernels written for the
// VMM (self-modifying code, page-table reuse, forkwait, devio) are co-simulated the same way. Trap
// mode is co-simulated on the labs too, where it must agree everywhere except on the sensitive lab:
// there the harness finds the first Xsensitive instruction that misbehaves in trap mode, as
// labs/sensitive/README.md describes (which shows that a difference is caught where it arises).
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { assembleFile } from '../../src/cli/kernel-input';
import { assemble } from '../../src/engine/asm/index';
import { RawDisk } from '../../src/engine/disk/raw';
import { MemoryByteStore } from '../../src/engine/disk/types';
import { ASM_DIR, C_DIR, REPO_ROOT, buildGuest, listGuests, mapLimit } from '../support/build';
import { cosimulate, type CosimOptions } from '../support/mode-cosim';
import { declaredInput } from '../support/vmlab';

const MiB = 1 << 20;
const programs = [...listGuests(ASM_DIR, '.S'), ...listGuests(C_DIR, '.c')];
const elves = new Map<string, Uint8Array>();

beforeAll(async () => {
  await mapLimit(programs, 4, async (p) => elves.set(p, new Uint8Array(readFileSync(await buildGuest(p)))));
}, 600_000);

/** The labs, each with how it runs (the disk lab boots a fresh 64 KiB disk in each VM). */
const LABS: Record<string, CosimOptions> = {
  hello: { memSize: 16 * MiB, input: new Uint8Array(Buffer.from('hi\r')) },
  traps: { memSize: 128 * MiB },
  paging: { memSize: 128 * MiB },
  sensitive: { memSize: 128 * MiB, cpu: { xsensitive: true } },
  scribble: { memSize: 16 * MiB },
  disk: { memSize: 16 * MiB, disks: () => [{ device: new RawDisk(new MemoryByteStore(new Uint8Array(64 * 1024))), legacy: true }] },
};

const labElf = (lab: string): Uint8Array => {
  const r = assemble(readFileSync(join(REPO_ROOT, 'labs', lab, `${lab}.S`), 'latin1'), { file: `${lab}.S` });
  if (!r.elf) throw new Error(`${lab}.S does not assemble`);
  return r.elf;
};

describe('bt against emulate, state compared at every exit and callout', () => {
  test.each(programs.map((p) => [basename(p), p]))('corpus: %s', (_name, path) => {
    const input = declaredInput(readFileSync(path, 'latin1'));
    const r = cosimulate(elves.get(path)!, 'bt', { memSize: 128 * MiB, input });
    expect(r.firstDifference).toBeUndefined();
    expect({ output: r.output, exitCode: r.exitCode }).toEqual({ output: r.referenceOutput, exitCode: r.referenceExitCode });
    expect(r.points).toBeGreaterThan(1);
  });

  test.each(Object.keys(LABS))('lab: %s', (lab) => {
    const r = cosimulate(labElf(lab), 'bt', LABS[lab]);
    expect(r.firstDifference).toBeUndefined();
    expect({ output: r.output, exitCode: r.exitCode }).toEqual({ output: r.referenceOutput, exitCode: r.referenceExitCode });
    expect(r.points).toBeGreaterThan(10);
    // The kernels' sensitive instructions were compared where bt called them out.
    if (lab !== 'hello' && lab !== 'scribble') expect(Object.keys(r.kinds).some((k) => k.startsWith('callout '))).toBe(true);
  });
});

/** Kernels of the project that stress bt: self-modifying code, page-table pages reused, the technique table's forkwait and devio. */
const KERNELS = ['test/guests/vmm/self-modify.S', 'test/guests/vmm/table-reuse.S', 'bench/workloads/forkwait.S', 'bench/workloads/devio.S'];

describe('bt against emulate on the project\'s VMM kernels', () => {
  test.each(KERNELS)('%s', (path) => {
    const r = cosimulate(assembleFile(join(REPO_ROOT, path)).elf!, 'bt', { memSize: 128 * MiB });
    expect(r.firstDifference).toBeUndefined();
    expect({ output: r.output, exitCode: r.exitCode }).toEqual({ output: r.referenceOutput, exitCode: 0 });
    expect(r.points).toBeGreaterThan(10);
  });
});

describe('trap against emulate on the labs', () => {
  test.each(Object.keys(LABS).filter((l) => l !== 'sensitive'))('lab: %s', (lab) => {
    const r = cosimulate(labElf(lab), 'trap', LABS[lab]);
    expect(r.firstDifference).toBeUndefined();
    expect({ output: r.output, exitCode: r.exitCode }).toEqual({ output: r.referenceOutput, exitCode: r.referenceExitCode });
  });

  test('sensitive: the first Xsensitive instruction that misbehaves in trap mode is the first difference', () => {
    const r = cosimulate(labElf('sensitive'), 'trap', LABS.sensitive);
    // rdpriv in the kernel reads the physical privilege (U = 0) where the guest is in virtual S (1).
    expect(r.firstDifference).toMatch(/^at exit 13 \(point \d+, step \d+, trap pc 0x[0-9a-f]{8}\): trap vs emulate: x8: 0x00000000 vs 0x00000001/);
    expect(r.output).not.toBe(r.referenceOutput);
  });
});
