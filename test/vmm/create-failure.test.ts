// A VM that cannot be created takes nothing with it: host frames (the guest's and the pmap's own
// table frames) go back to the allocator, so failed attempts never shrink host RAM.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assemble } from '../../src/engine/asm/index';
import { Vmm } from '../../src/engine/vmm/vmm';
import { REPO_ROOT } from '../support/build';

const MiB = 1 << 20;

function hello(): Uint8Array {
  const path = join(REPO_ROOT, 'labs/hello/hello.S');
  const r = assemble(readFileSync(path, 'utf8'), { file: path });
  if (!r.elf) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  return r.elf;
}

describe('a failed VM creation', () => {
  const kernel = hello();

  it.each([
    ['a kernel that is not an ELF and too large for RAM', { memSize: 1 * MiB, kernel: new Uint8Array(2 * MiB).fill(0x7f) }, /kernel|image|RAM|fit/i],
    ['more memory than host RAM has left', { memSize: 48 * MiB, kernel }, /frames|RAM/],
    ['an explicit placement naming a frame twice', { memSize: 1 * MiB, kernel, placement: { explicit: [[0, 0x400], [1, 0x400]] as [number, number][] } }, /in use/],
    ['an explicit placement outside host RAM', { memSize: 1 * MiB, kernel, placement: { explicit: [[0, 1 << 20]] as [number, number][] } }, /does not exist/],
  ])('gives back every frame: %s', (_what, config, message) => {
    const vmm = new Vmm({ hostRamSize: 32 * MiB });
    const first = vmm.createVm({ name: 'keeper', mode: 'trap', memSize: 4 * MiB, kernel });
    const free = vmm.frames.available;
    for (let i = 0; i < 3; i++) {
      expect(() => vmm.createVm({ name: `bad${i}`, mode: 'trap', ...config })).toThrow(message);
      expect(vmm.frames.available).toBe(free);
    }
    // The allocator still has room for a VM that fits, and the first VM is untouched.
    const next = vmm.createVm({ name: 'next', mode: 'emulate', memSize: 4 * MiB, kernel });
    expect(vmm.frames.available).toBeLessThan(free);
    vmm.removeVm(next);
    expect(vmm.frames.available).toBe(free);
    expect(first.state).toBe('running');
  });
});
