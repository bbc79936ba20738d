// A run cut at step N, saved, restored into a machine or VM built afresh, and continued, prints the
// same console output and retires the same instructions as the run that was never cut: every lab of
// labs/ (each of its kernels), bare and in every VMM mode, its -pv kernels in pv mode, at several cut
// points. The state goes through JSON as in a snapshot file.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { assembleFile } from '../../src/cli/kernel-input';
import { SBI_KERNEL_ADDRESS } from '../../src/engine/machine/boot';
import { RawDisk } from '../../src/engine/disk/raw';
import { MemoryByteStore } from '../../src/engine/disk/types';
import { Machine, StopReason } from '../../src/engine/machine/machine';
import { loadMachine, loadRam, loadVm, ramPages, saveMachine, saveVm } from '../../src/engine/snapshot/machine-state';
import { SnapshotError, type FieldState } from '../../src/engine/snapshot/fields';
import { VM_MODES, type VmMode } from '../../src/engine/vmm/vm';
import { Vmm } from '../../src/engine/vmm/vmm';
import { REPO_ROOT } from '../support/build';

const MiB = 1024 * 1024;
/**
 * Each lab's programs (every lab of labs/) with RAM, disk and the step at which the comparison ends
 * (scribble never ends by itself); a `-pv` kernel runs only in pv mode, the others bare and in the
 * VM modes that run an unmodified kernel.
 */
const LABS: Record<string, { source: string; mem: number; xsensitive: boolean; disk?: number; horizon: number; pv?: boolean }> = {
  hello: { source: 'hello/hello.S', mem: 16 * MiB, xsensitive: false, horizon: 20_000_000 },
  traps: { source: 'traps/traps.S', mem: 32 * MiB, xsensitive: false, horizon: 20_000_000 },
  paging: { source: 'paging/paging.S', mem: 32 * MiB, xsensitive: false, horizon: 20_000_000 },
  scribble: { source: 'scribble/scribble.S', mem: 16 * MiB, xsensitive: false, horizon: 2_000_000 },
  sensitive: { source: 'sensitive/sensitive.S', mem: 32 * MiB, xsensitive: true, horizon: 20_000_000 },
  disk: { source: 'disk/disk.S', mem: 32 * MiB, xsensitive: false, disk: MiB, horizon: 20_000_000 },
  'structure-mono': { source: 'structure/mono.S', mem: 16 * MiB, xsensitive: false, disk: 64 * 1024, horizon: 20_000_000 },
  'structure-micro': { source: 'structure/micro.S', mem: 16 * MiB, xsensitive: false, disk: 64 * 1024, horizon: 20_000_000 },
  'migration': { source: 'migration/dirty.S', mem: 16 * MiB, xsensitive: false, horizon: 20_000_000 },
  'traps-pv': { source: 'traps/traps-pv.S', mem: 32 * MiB, xsensitive: false, horizon: 20_000_000, pv: true },
  'paging-pv': { source: 'paging/paging-pv.S', mem: 32 * MiB, xsensitive: false, horizon: 20_000_000, pv: true },
  'sensitive-pv': { source: 'sensitive/sensitive-pv.S', mem: 32 * MiB, xsensitive: true, horizon: 20_000_000, pv: true },
  'disk-pv': { source: 'disk/disk-pv.S', mem: 32 * MiB, xsensitive: false, disk: MiB, horizon: 20_000_000, pv: true },
};
/**
 * Runs go in chunks that end at multiples of this many steps of the guest's clock, so a cut run
 * meets the same chunk ends as the uncut one (the VMM judges a guest stuck per chunk).
 */
const CHUNK = 1_000_000;
const MODES: ('bare' | VmMode)[] = ['bare', ...VM_MODES];
const elves = new Map<string, Uint8Array>();

beforeAll(() => {
  for (const [lab, spec] of Object.entries(LABS)) {
    const asm = assembleFile(join(REPO_ROOT, 'labs', spec.source), spec.pv ? { base: SBI_KERNEL_ADDRESS } : {});
    if (!asm.elf) throw new Error(`${spec.source} does not assemble`);
    elves.set(lab, asm.elf);
  }
});

test('every lab of labs/ is here, each of its kernels', () => {
  const labs = readdirSync(join(REPO_ROOT, 'labs'), { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
  for (const lab of labs) expect(Object.values(LABS).some((s) => s.source.startsWith(`${lab}/`)), lab).toBe(true);
  for (const pvSource of labs.flatMap((lab) => readdirSync(join(REPO_ROOT, 'labs', lab)).filter((f) => f.endsWith('-pv.S')).map((f) => `${lab}/${f}`))) {
    expect(Object.values(LABS).some((s) => s.source === pvSource), pvSource).toBe(true);
  }
});

/** One machine or VM as the test drives it. */
interface Runner {
  output: number[];
  disk?: MemoryByteStore;
  steps(): number;
  instret(): number;
  /** Runs until the guest's clock reaches `step` (or the guest ends). */
  runTo(step: number): void;
  save(): string;
  restore(saved: string): void;
  end(): string;
}

function diskStore(size: number, from?: MemoryByteStore): MemoryByteStore {
  const store = new MemoryByteStore(new Uint8Array(size));
  if (from !== undefined) {
    const bytes = new Uint8Array(size);
    from.read(0, bytes);
    store.write(0, bytes);
  }
  return store;
}

/** Builds `lab` in `mode`; `diskFrom` copies another runner's disk (the image as it was at the cut). */
function build(lab: string, mode: 'bare' | VmMode, diskFrom?: MemoryByteStore): Runner {
  const spec = LABS[lab];
  const output: number[] = [];
  const disk = spec.disk ? diskStore(spec.disk, diskFrom) : undefined;
  const disks = disk ? [{ device: new RawDisk(disk), slot: 0 }] : [];
  const encode = (state: unknown, ram: Iterable<{ index: number; bytes: Uint8Array }>): string =>
    JSON.stringify({ state, ram: [...ram].map((p) => [p.index, Buffer.from(p.bytes).toString('base64')]) });
  const decode = (text: string): { state: never; ram: Map<number, Uint8Array> } => {
    const parsed = JSON.parse(text) as { state: never; ram: [number, string][] };
    return { state: parsed.state, ram: new Map(parsed.ram.map(([i, b]) => [i, new Uint8Array(Buffer.from(b, 'base64'))])) };
  };
  if (mode === 'bare') {
    const m = new Machine({ ramSize: spec.mem, cpu: { xsensitive: spec.xsensitive }, onUart: (b) => output.push(b), disks });
    m.loadKernel(elves.get(lab)!);
    return {
      output, disk,
      steps: () => m.clockSteps,
      instret: () => m.hart.instret,
      runTo(target) {
        while (m.clockSteps < target) {
          const r = m.run(Math.min(target - m.clockSteps, CHUNK - (m.clockSteps % CHUNK)));
          if (r !== StopReason.BUDGET) return;
        }
      },
      save: () => encode(saveMachine(m), ramPages(m.bus)),
      restore(text) {
        const { state, ram } = decode(text);
        loadRam(m.bus, ram);
        loadMachine(m, state);
      },
      end: () => `exit ${m.exitCode}`,
    };
  }
  const vmm = new Vmm({ hostRamSize: spec.mem + 64 * MiB });
  const vm = vmm.createVm({ name: lab, mode, kernel: elves.get(lab)!, memSize: spec.mem, cpu: { xsensitive: spec.xsensitive }, onUart: (b) => output.push(b), disks });
  return {
    output, disk,
    steps: () => vm.machine.clockSteps,
    instret: () => vm.stats.instructions,
    runTo(target) {
      while (vm.machine.clockSteps < target && vm.state === 'running') {
        const steps = vm.machine.clockSteps;
        vmm.runVm(vm, Math.min(target - steps, CHUNK - (steps % CHUNK)));
      }
    },
    save: () => encode(saveVm(vmm, vm), ramPages(vm.bus)),
    restore(text) {
      const { state, ram } = decode(text);
      loadRam(vm.bus, ram);
      loadVm(vmm, vm, state);
    },
    // A guest stuck in a loop of traps is declared crashed at the end of the run call in which it
    // got stuck: a continued run may say so at another step, with the same output and instructions.
    end: () => `${vm.state} ${vm.exitCode}`,
  };
}

describe.each(Object.keys(LABS))('%s', (lab) => {
  test.each(LABS[lab].pv ? ['pv' as const] : MODES)('%s: cut anywhere, restored and continued, equals the uncut run', (mode) => {
    const horizon = LABS[lab].horizon;
    const whole = build(lab, mode);
    whole.runTo(horizon);
    const disk = (r: Runner): string | undefined => {
      if (r.disk === undefined) return undefined;
      const bytes = new Uint8Array(LABS[lab].disk!);
      r.disk.read(0, bytes);
      return Buffer.from(bytes).toString('base64');
    };
    const expected = { output: Buffer.from(whole.output).toString('latin1'), instret: whole.instret(), steps: whole.steps(), end: whole.end(), disk: disk(whole) };
    expect(expected.output.length).toBeGreaterThan(0);
    const cuts = [977, Math.floor(expected.steps / 2), expected.steps - 1];
    for (const cut of cuts) {
      const first = build(lab, mode);
      first.runTo(cut);
      const saved = first.save();
      const second = build(lab, mode, first.disk);
      second.restore(saved);
      second.runTo(horizon);
      const got = { output: Buffer.from([...first.output, ...second.output]).toString('latin1'), instret: second.instret(), steps: second.steps(), end: second.end(), disk: disk(second) };
      if (expected.end.startsWith('crashed')) got.steps = expected.steps;
      expect(got, `cut at ${cut}`).toEqual(expected);
    }
  }, 300_000);
});

describe('restoring refuses state that does not fit', () => {
  test('a field this engine does not have, a missing field, a wrong type: SnapshotError naming the field', () => {
    const m = new Machine({ ramSize: 16 * MiB });
    m.loadKernel(elves.get('hello')!);
    const state = saveMachine(m) as Record<string, Record<string, unknown>>;
    const fresh = (): Machine => {
      const f = new Machine({ ramSize: 16 * MiB });
      f.loadKernel(elves.get('hello')!);
      return f;
    };
    const extra = structuredClone(state);
    extra.hart.newCsr = 5;
    expect(() => loadMachine(fresh(), extra as FieldState)).toThrow(new SnapshotError('machine.hart.newCsr is not part of this vmlab\'s machine.hart'));
    const missing = structuredClone(state);
    delete missing.hart.mstatus;
    expect(() => loadMachine(fresh(), missing as FieldState)).toThrow(new SnapshotError('machine.hart.mstatus is missing'));
    const wrong = structuredClone(state);
    wrong.hart.x = 7;
    expect(() => loadMachine(fresh(), wrong as FieldState)).toThrow(new SnapshotError('machine.hart.x should be a Int32Array'));
    expect(() => loadRam(fresh().bus, new Map([[1 << 20, new Uint8Array(4096)]]))).toThrow(SnapshotError);
  });
});
