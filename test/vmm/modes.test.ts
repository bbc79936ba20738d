// Every guest program of the machine corpus gives the same console output and exit code bare, in
// emulate, trap and bt mode (docs/vmm.md: an unmodified kernel that runs bare runs in every mode).
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { Vmm } from '../../src/engine/vmm/vmm';
import type { VmMode } from '../../src/engine/vmm/vm';
import { ASM_DIR, C_DIR, buildGuest, listGuests, mapLimit } from '../support/build';
import { declaredInput, runVmlab } from '../support/vmlab';

const programs = [...listGuests(ASM_DIR, '.S'), ...listGuests(C_DIR, '.c')];
const elves = new Map<string, string>();

/** Runs one program alone in a VM of `mode`; returns what the guest printed and its exit code. */
export function runInVm(elf: string, mode: VmMode, input?: Uint8Array): { output: string; exitCode: number | null; state: string; reason?: string } {
  const vmm = new Vmm({ hostRamSize: 256 << 20 });
  const out: number[] = [];
  const vm = vmm.createVm({ name: 'guest', mode, kernel: new Uint8Array(readFileSync(elf)), memSize: 128 << 20, onUart: (b) => out.push(b) });
  if (input) vm.sendInput(input);
  for (let i = 0; i < 400 && vmm.active; i++) vmm.run(1_000_000);
  return { output: Buffer.from(out).toString('latin1'), exitCode: vm.exitCode ?? null, state: vm.state, reason: vm.crashReason };
}

beforeAll(async () => {
  await mapLimit(programs, 4, async (p) => elves.set(p, await buildGuest(p)));
}, 600_000);

describe.each(['emulate', 'trap', 'bt', 'hw'] as const)('%s mode against bare', (mode) => {
  test.each(programs.map((p) => [basename(p), p]))('%s', (_name, path) => {
    const input = declaredInput(readFileSync(path, 'latin1'));
    const bare = runVmlab(elves.get(path)!, { input });
    const vm = runInVm(elves.get(path)!, mode, input);
    expect(vm.reason).toBeUndefined();
    expect({ output: vm.output, exitCode: vm.exitCode }).toEqual({ output: bare.output.toString('latin1'), exitCode: bare.exitCode });
    expect(vm.state).toBe('halted');
  });
});
