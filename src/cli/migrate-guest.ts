// The machine or VM that `vmlab migrate` sends and `vmlab host` receives (docs/migration.md): built
// from a kernel and the options of `vmlab run`, or from a snapshot (the state that arrived, or the
// source's own state when a migration fails after it closed its disks).

import { basename, resolve as resolvePath } from 'node:path';
import type { CpuFeatures } from '../engine/cpu/hart';
import type { DiskAttachment } from '../engine/machine/board';
import { Machine, StopReason } from '../engine/machine/machine';
import { MEMORY_MAP, VMM_RESERVE } from '../engine/machine/memory-map';
import { loadMachine, loadVm, saveMachine, saveVm } from '../engine/snapshot/machine-state';
import { startMachineDirtyLog, startVmDirtyLog, type DirtyLog } from '../engine/vmm/dirty-log';
import type { Vm, VmMode } from '../engine/vmm/vm';
import { Vmm } from '../engine/vmm/vmm';
import { InputHold, type MigratingGuest } from '../host/migration/source';
import { fileDigest, type Snapshot, type SnapshotDisk, type SnapshotParts } from '../host/snapshot-file';
import type { VmPlacement } from '../shared/lab-api';
import type { BootFiles } from './boot-option';
import { closeDisks, type DiskSpec } from './disk-option';
import { openDisks } from './disk-open';

/** What a guest is built from. */
export interface GuestSpec {
  mode: 'bare' | VmMode;
  kernel: Uint8Array;
  kernelName: string;
  mem: number;
  cpu: Partial<CpuFeatures>;
  place?: string;
  placement?: VmPlacement;
  boot: BootFiles;
  disks: DiskSpec[];
  jit: boolean;
}

/** How a guest's run stands. */
export type GuestEnd = 'running' | 'exit' | 'crashed' | 'idle';

/** A machine or one VM, driven by the migration commands. */
export class MigrationGuest implements MigratingGuest {
  readonly mode: string;
  readonly ramPages: number;
  private readonly machine: Machine | undefined;
  private readonly vmm: Vmm | undefined;
  private readonly vm: Vm | undefined;
  private disks: DiskAttachment[];
  private lastStop: StopReason = StopReason.BUDGET;
  /**
   * The dirty log, on from the start: the pages it named so far and those the boot or the snapshot
   * filled are every page that may hold data, so the first round never reads untouched RAM (which
   * would make the host commit all of it).
   */
  private readonly log: DirtyLog;
  private readonly used = new Set<number>();
  /** Input typed after the state was taken (it belongs to the host once the guest runs there). */
  readonly held = new InputHold();

  constructor(readonly spec: GuestSpec, onUart: (b: number) => void, snapshot?: Snapshot) {
    this.mode = spec.mode;
    this.ramPages = spec.mem / 4096;
    this.disks = openDisks(spec.disks);
    try {
      if (spec.mode === 'bare') {
        this.machine = new Machine({ ramSize: spec.mem, cpu: { ...spec.cpu, jit: spec.jit }, onUart, disks: this.disks, ...spec.boot });
        this.machine.loadKernel(spec.kernel);
        if (snapshot !== undefined) {
          this.restoreRam(snapshot.ram);
          loadMachine(this.machine, snapshot.header.machine!);
        }
      } else {
        this.vmm = new Vmm({ hostRamSize: spec.mem + VMM_RESERVE, jit: spec.jit });
        this.vm = this.vmm.createVm({ name: 'guest', mode: spec.mode, kernel: spec.kernel, memSize: spec.mem, cpu: spec.cpu, onUart, disks: this.disks, placement: spec.placement, ...spec.boot });
        if (snapshot !== undefined) {
          this.restoreRam(snapshot.ram);
          loadVm(this.vmm, this.vm, snapshot.header.vm!);
        }
      }
      if (snapshot === undefined) for (const p of this.bootPages()) this.used.add(p);
      this.log = this.machine !== undefined ? startMachineDirtyLog(this.machine) : startVmDirtyLog(this.vmm!, this.vm!);
    } catch (err) {
      closeDisks(this.disks);
      throw err;
    }
  }

  /** Pages of RAM the boot filled (firmware, kernel, initrd, device tree). */
  private bootPages(): number[] {
    const m = this.machine ?? this.vm!.machine;
    const out: number[] = [];
    for (const r of m.board.regions) {
      for (let a = r.start - (r.start % 4096); a < r.end; a += 4096) out.push((a - MEMORY_MAP.ram.base) / 4096);
    }
    return out;
  }

  /**
   * Makes the freshly booted RAM hold exactly `pages` (every other page zero). Only the boot's pages
   * can hold data in fresh RAM, so only they are cleared: the rest is never touched.
   */
  private restoreRam(pages: ReadonlyMap<number, Uint8Array>): void {
    const bus = this.machine?.bus ?? this.vm!.bus;
    const count = this.ramPages;
    for (const [index, bytes] of pages) {
      if (!Number.isInteger(index) || index < 0 || index >= count || bytes.length !== 4096) throw new Error(`RAM page ${index} does not fit the machine's ${count} pages`);
    }
    for (const index of this.bootPages()) {
      if (pages.has(index)) continue;
      const off = bus.ramOffset(MEMORY_MAP.ram.base + index * 4096, 4096);
      bus.ram.fill(0, off, off + 4096);
    }
    for (const [index, bytes] of pages) {
      const off = bus.ramOffset(MEMORY_MAP.ram.base + index * 4096, 4096);
      bus.ram.set(bytes, off);
      bus.written[off >>> 12] = 1;
      this.used.add(index);
    }
  }

  /** Builds the guest a snapshot describes (in its own mode), opening its disks. */
  static fromSnapshot(s: Snapshot, onUart: (b: number) => void, jit: boolean): MigrationGuest {
    const c = s.header.config;
    const spec: GuestSpec = {
      mode: c.mode as GuestSpec['mode'], kernel: s.kernel, kernelName: c.kernelName, mem: c.ramSize, cpu: c.cpu, place: c.place,
      boot: { firmware: s.firmware, initrd: s.initrd, bootargs: c.bootargs, sbi: c.sbi }, jit,
      disks: s.header.disks.map((d) => ({ path: d.path, format: d.format, readOnly: d.readOnly, legacy: d.legacy, serial: d.serial, slot: d.slot })),
    };
    if (c.place !== undefined && c.place !== 'contiguous' && c.place !== 'scattered') throw new Error('a VM placed page by page (--place with pairs) does not migrate');
    spec.placement = c.place as VmPlacement | undefined;
    return new MigrationGuest(spec, onUart, s);
  }

  run(steps: number): boolean {
    // --max-insns holds while pre-copy rounds run the guest too: it stops at the step, and the rest
    // of the migration moves it there.
    steps = Math.min(steps, this.stepLimit - this.elapsedSteps);
    if (steps <= 0) return false;
    if (this.machine !== undefined) {
      this.lastStop = this.machine.run(steps);
    } else {
      this.vmm!.runVm(this.vm!, steps);
    }
    return this.end === 'running';
  }

  /** The guest stops after this many steps since it started, reboots included (`--max-insns`): `run` runs no step past it. */
  stepLimit = Infinity;

  /** How the run stands now. */
  get end(): GuestEnd {
    if (this.machine !== undefined) {
      if (this.machine.exitCode !== undefined) return 'exit';
      return this.lastStop === StopReason.IDLE ? 'idle' : 'running';
    }
    const s = this.vm!.state;
    return s === 'halted' ? 'exit' : s === 'crashed' ? 'crashed' : s === 'waiting' ? 'idle' : 'running';
  }

  get exitCode(): number | undefined {
    return this.machine?.exitCode ?? this.vm?.exitCode;
  }

  get crashReason(): string | undefined {
    return this.vm?.crashReason;
  }

  get steps(): number {
    return (this.machine ?? this.vm!.machine).clockSteps;
  }

  get elapsedSteps(): number {
    return (this.machine ?? this.vm!.machine).elapsedSteps;
  }

  /** Instructions the guest retired (a VM: as its statistics count them, which a snapshot carries). */
  get instret(): number {
    return this.machine !== undefined ? this.machine.hart.instret : this.vm!.stats.instructions;
  }

  sendInput(bytes: Uint8Array): void {
    if (this.held.hold(bytes)) return;
    if (this.machine !== undefined) {
      this.machine.sendInput(bytes);
      if (this.lastStop === StopReason.IDLE) this.lastStop = StopReason.BUDGET;
    } else {
      this.vm!.sendInput(bytes);
    }
  }

  page(index: number): Uint8Array {
    const bus = this.machine?.bus ?? this.vm!.bus;
    const off = bus.ramOffset(MEMORY_MAP.ram.base + index * 4096, 4096);
    return bus.ram.subarray(off, off + 4096);
  }

  usedPages(): number[] {
    for (const p of this.log.take()) this.used.add(p);
    return [...this.used].sort((a, b) => a - b);
  }

  /** The log for a migration's rounds: pages written since the last `usedPages` or `take`. */
  startDirtyLog(): DirtyLog {
    for (const p of this.log.take()) this.used.add(p);
    return {
      take: () => {
        const pages = this.log.take();
        for (const p of pages) this.used.add(p);
        return pages;
      },
      // The log stays on for the guest's next migration.
      stop: () => {},
    };
  }

  state(): SnapshotParts {
    this.held.start();
    const m = this.machine ?? this.vm!.machine;
    m.flushDisks();
    const spec = this.spec;
    const disks: SnapshotDisk[] = this.disks.map((d, i) => {
      const path = resolvePath(spec.disks[i].path);
      return {
        path, format: d.device.format as 'raw' | 'qcow2', readOnly: d.device.readOnly, legacy: d.legacy ?? true, serial: d.serial,
        slot: m.board.diskSlots[i], ...fileDigest(path),
      };
    });
    const h = m.hart;
    return {
      header: {
        created: new Date().toISOString(),
        config: { mode: spec.mode, ramSize: spec.mem, cpu: spec.cpu, bootargs: spec.boot.bootargs, sbi: spec.boot.sbi, place: spec.place, kernelName: basename(spec.kernelName) },
        disks,
        summary: { steps: m.clockSteps, instret: h.instret, pc: h.pc, priv: h.priv, state: this.end },
        machine: this.machine !== undefined ? saveMachine(this.machine) : undefined,
        vm: this.vm !== undefined ? saveVm(this.vmm!, this.vm) : undefined,
      },
      kernel: spec.kernel,
      firmware: spec.boot.firmware,
      initrd: spec.boot.initrd,
      ram: [],
    };
  }

  releaseDisks(): void {
    const problem = closeDisks(this.disks);
    this.disks = [];
    if (problem !== undefined) throw new Error(problem);
  }

  /** Flushes and closes the disks at the end of the run; returns a problem, if any. */
  close(): string | undefined {
    const problem = closeDisks(this.disks);
    this.disks = [];
    return problem;
  }
}
