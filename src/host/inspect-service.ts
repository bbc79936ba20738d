// The lab service's inspector requests (issue #7): page tables, the layered walk, the TLB and a bt
// VM's translation cache are forwarded to the worker that owns the machine (a bare machine's own,
// or the VMM's); statistics ticks are published while VMs run; compare runs go to a worker of
// their own. LabService merges `handlers` into its table, after schema.ts has validated each request.

import { SBI_KERNEL_ADDRESS } from '../engine/machine/boot';
import type { CompareState, InspectMethods, LabParams, LabResult, MachineState, VmStatsInfo } from '../shared/lab-api';
import { CompareHost } from './compare-run';
import { LabError } from './errors';
import type { MachineHost } from './machine-host';
import { StatsTicker } from './stats-ticker';
import type { InspectReplies, InspectRequest } from './vm-inspect';
import type { VmmHost } from './vmm-host';
import type { DiskAttachmentConfig } from '../shared/disk-api';
import type { DiskOpenSpec } from './vm-disks';
import type { BootImages } from './worker-protocol';

/** What the inspectors need of the lab service. */
export interface InspectServiceContext {
  /** The machine: a bare machine's worker (`host`), or a VM of the VMM (no host); throws not-found. */
  machine(id: string): { readonly host?: MachineHost; readonly name: string };
  vmm(): VmmHost;
  /** A workspace kernel's bytes (.S assembled first). */
  /** A kernel's bytes; a .S source is assembled at `base` (default the start of RAM). */
  kernelBytes(path: string, base?: number): Promise<Uint8Array>;
  /** The disks a request names, resolved and checked as vm.create's. */
  diskSpecs(disks: readonly DiskAttachmentConfig[]): Promise<DiskOpenSpec[]>;
  /** The firmware and initrd a request names, read from the workspace, and its command line. */
  bootImages(config: { bios?: string; initrd?: string; append?: string }): BootImages;
  workerPath(): Promise<string>;
  statsTick(id: string, t: number, stats: VmStatsInfo): void;
  /** A comparison ended: tell every page (one loaded while it ran did not ask for it). */
  compareDone(state: CompareState): void;
}

type Handlers = { [M in keyof InspectMethods]: (p: LabParams<M>) => Promise<LabResult<M>> };

/** Inspector and compare requests, and statistics ticks. */
export class InspectService {
  private readonly compare: CompareHost;
  private readonly ticker: StatsTicker;
  /** The comparison running and the last one that ended (compare.state). */
  private compareState: CompareState = {};

  constructor(private readonly ctx: InspectServiceContext) {
    this.compare = new CompareHost(() => ctx.workerPath());
    this.ticker = new StatsTicker((id) => ctx.vmm().send({ op: 'stats', key: id }), (id, t, stats) => ctx.statsTick(id, t, stats));
  }

  private async ask<W extends InspectRequest['what']>(id: string, request: InspectRequest & { what: W }): Promise<InspectReplies[W]> {
    const e = this.ctx.machine(id);
    const reply = e.host ? await e.host.send({ op: 'inspect', request }) : await this.ctx.vmm().send({ op: 'inspect', key: id, request });
    return reply as InspectReplies[W];
  }

  /** The request handlers, for LabService's table. */
  readonly handlers: Handlers = {
    'vm.pageTables': async ({ id }) => this.ask(id, { what: 'pageTables' }),
    'vm.tablePage': async ({ id, table, index }) => this.ask(id, index === undefined ? { what: 'tablePage', table } : { what: 'tablePage', table, index }),
    'vm.walk': async ({ id, address, access, priv }) => this.ask(id, priv === undefined ? { what: 'walk', address, access: access ?? 'load' } : { what: 'walk', address, access: access ?? 'load', priv }),
    'vm.tlb': async ({ id }) => this.ask(id, { what: 'tlb' }),
    'vm.translations': async ({ id }) => this.ask(id, { what: 'translations' }),
    'vm.translationBlock': async ({ id, gpa, priv }) => this.ask(id, { what: 'translationBlock', gpa, priv }),
    'compare.run': async (config) => {
      const kernels: { name: string; bytes: Uint8Array }[] = [];
      for (const name of [config.kernel, ...(config.kernels ?? [])]) kernels.push({ name, bytes: await this.ctx.kernelBytes(name) });
      const disks = await this.ctx.diskSpecs(config.disks ?? []);
      const pv = config.pvKernel === undefined ? undefined : await this.ctx.kernelBytes(config.pvKernel, SBI_KERNEL_ADDRESS);
      // One at a time: a second one is refused here, leaving the running one's state alone.
      if (this.compareState.running) throw new LabError('bad-state', 'a comparison is running already: wait for it or cancel it');
      this.compareState = { ...this.compareState, running: { config, since: Date.now() } };
      const run = this.compare.run(kernels, config, this.ctx.bootImages(config), disks.map((d) => ({ ...d, readOnly: true })), pv);
      try {
        const result = await run;
        this.compareState = { last: { config, result } };
        return result;
      } catch (err) {
        this.compareState = { last: { config, error: err instanceof Error ? err.message : String(err) } };
        throw err;
      } finally {
        this.ctx.compareDone(this.compareState);
      }
    },
    'compare.cancel': async () => {
      await this.compare.cancel();
      return {};
    },
    'compare.state': async () => this.compareState,
  };

  /** A VM's status changed or ticked: maybe publish its statistics. */
  onVmStatus(id: string, state: MachineState): void {
    this.ticker.onStatus(id, state);
  }

  /** A machine was removed. */
  forget(id: string): void {
    this.ticker.forget(id);
  }

  /** Stops a running comparison (the service is closing). */
  async dispose(): Promise<void> {
    await this.compare.cancel();
  }
}
