// The app's side of `--bios sbi` and pv mode, through the lab service and its workers: vm.create
// with bios 'sbi' (a .S kernel assembled where QEMU puts a kernel behind OpenSBI) bare and in a VM,
// vm.create with mode 'pv' (the sensitive lab's para-virtual kernel prints the lab's expected
// output), and compare.run with a pv row from the kernel written for pv.
import { cpSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LabService } from '../../src/host/lab-service';
import type { CompareResult } from '../../src/shared/inspect-api';
import type { AssembleResult, MachineStatus, VmStatsInfo } from '../../src/shared/lab-api';
import { GUEST_DIR, REPO_ROOT } from '../support/build';
import { recordEvents, until } from '../support/lab';

let lab: LabService;
const consoleText = new Map<string, string>();
const latest = new Map<string, MachineStatus>();

beforeAll(async () => {
  const root = mkdtempSync(join(tmpdir(), 'vmlab-sbi-pv-app-'));
  cpSync(join(GUEST_DIR, 'sbi', 'sbi-calls.S'), join(root, 'sbi-calls.S'));
  cpSync(join(REPO_ROOT, 'labs', 'sensitive', 'sensitive-pv.S'), join(root, 'sensitive-pv.S'));
  cpSync(join(REPO_ROOT, 'bench', 'workloads'), join(root, 'w'), { recursive: true });
  lab = await LabService.create({ workspace: root });
  recordEvents(lab, { consoleText, latest });
});

afterAll(() => lab.dispose());

const create = (params: Record<string, unknown>): Promise<MachineStatus> => lab.call('vm.create', params) as Promise<MachineStatus>;

async function runToExit(params: Record<string, unknown>, check?: (stats: VmStatsInfo) => void): Promise<string> {
  const m = await create(params);
  await lab.call('vm.run', { id: m.id });
  await until(`${String(params.name)} to exit`, () => latest.get(m.id)?.state === 'exited');
  expect(latest.get(m.id)?.exitCode).toBe(0);
  const text = consoleText.get(m.id) ?? '';
  if (check) check(await lab.call('vm.stats', { id: m.id }) as VmStatsInfo);
  await lab.call('vm.destroy', { id: m.id });
  return text;
}

describe('bios sbi and pv in the app', () => {
  const calls = readFileSync(join(GUEST_DIR, 'sbi', 'sbi-calls.expected'), 'latin1');
  for (const mode of ['bare', 'trap'] as const) {
    it(`bios sbi, ${mode}: OpenSBI's answers`, async () => {
      expect(await runToExit({ kernel: 'sbi-calls.S', bios: 'sbi', mode, memSize: 64 << 20, name: `sbi-${mode}` })).toBe(calls);
    });
  }

  it('mode pv: the sensitive lab\'s pv kernel prints the lab\'s expected output', async () => {
    const text = await runToExit({ kernel: 'sensitive-pv.S', mode: 'pv', cpu: { xsensitive: true }, memSize: 64 << 20, name: 'pv' }, (stats) => {
      expect(stats.hypercalls).toEqual({ 'pv.set_irq': 2, 'pv.return_to_user': 1 });
      expect(stats.pv).toEqual({ refused: 0, pteUpdates: 0 });
    });
    expect(text).toBe(readFileSync(join(REPO_ROOT, 'labs', 'sensitive', 'expected-output.txt'), 'latin1'));
  });

  it("F5's path in pv mode: asm.build for pv builds at the pv kernel's address, and its ELF runs the lab", async () => {
    const pv = await lab.call('asm.build', { path: 'sensitive-pv.S', mode: 'pv' }) as AssembleResult;
    expect(pv.symbols.find((s) => s.name === '_start')?.address).toBe(0x80400000);
    const text = await runToExit({ kernel: pv.elfPath, mode: 'pv', cpu: { xsensitive: true }, memSize: 64 << 20, name: 'pv-elf' });
    expect(text).toBe(readFileSync(join(REPO_ROOT, 'labs', 'sensitive', 'expected-output.txt'), 'latin1'));
    // Without a mode (Assemble, F5 in the other modes) the start of RAM, as before.
    const bare = await lab.call('asm.build', { path: 'sensitive-pv.S' }) as AssembleResult;
    expect(bare.symbols.find((s) => s.name === '_start')?.address).toBe(0x80000000);
  });

  it('compare.run puts the pv kernel in the pv row, and refuses a pv row without one', async () => {
    const r = await lab.call('compare.run', { kernel: 'w/syscall.S', pvKernel: 'w/syscall-pv.S', modes: ['bare', 'pv'], maxSteps: 5_000_000 }) as CompareResult;
    expect(r.rows.map((row) => [row.mode, row.end, row.exitCode, row.sameOutput])).toEqual([['bare', 'exit', 0, true], ['pv', 'exit', 0, true]]);
    await expect(lab.call('compare.run', { kernel: 'w/syscall.S', modes: ['bare', 'pv'] })).rejects.toThrow(/pv row needs the kernel written for pv/);
  });
});
