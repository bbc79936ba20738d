// The disk manager's side of the lab service (docs/disks.md, docs/app.md): images in the workspace described,
// created and converted with the same code as `vmlab disk info|create|convert` (disk-tools.ts), and
// the disks of each VM, which the VMM worker opens, locks, flushes and closes (vm-disks.ts). Every
// path is confined to the workspace by the workspace's path policy (paths.ts), backing files included:
// a chain is checked by opening it read-only with openDisk, the function the worker opens it with, so
// the check and the open follow the same names; an image whose chain leaves the workspace is refused,
// or a guest could read host files through it.

import { dirname, relative, sep } from 'node:path';
import { DiskError } from '../engine/disk/types';
import { assignDiskSlots } from '../engine/machine/disk-slots';
import {
  DISK_EXTENSIONS, type DiskAttachmentConfig, type DiskImageInfo, type DiskMethods, type LabParams, type LabResult, type MachineMode,
} from '../shared/lab-api';
import { openDisk, type DiskFormat } from './disk-files';
import { convertDisk, createDisk, diskInfo, imageFileSize } from './disk-tools';
import { LabError } from './errors';
import type { ResolvedPath } from './paths';
import type { DiskOpenSpec } from './vm-disks';
import type { VmmHost } from './vmm-host';
import type { Workspace } from './workspace';

/** What the disk manager needs of the lab service. */
export interface DiskServiceHost {
  workspace(): Workspace;
  /** The machine `id` (throws not-found). */
  machine(id: string): { readonly id: string; readonly name: string; readonly mode: MachineMode };
  /** The running VMM (throws bad-state when it is gone). */
  vmm(): VmmHost;
  /** The workspace's files changed. */
  changed(): void;
  /** A VM has another disk list (the service stores it with the VM). */
  disksChanged?(id: string, specs: readonly DiskOpenSpec[]): Promise<void>;
}

/** Refuses disks whose virtio-mmio slots clash (a bad-request naming the disk and slot). */
function checkSlots(disks: readonly { slot?: number }[]): void {
  try {
    assignDiskSlots(disks);
  } catch (err) {
    throw new LabError('bad-request', `disks: ${(err as Error).message}`);
  }
}

/** Handlers of the disk requests. */
export type DiskHandlers = { [M in keyof DiskMethods]: (p: LabParams<M>) => Promise<LabResult<M>> };

/** Disk images and the disks of VMs. */
export class DiskService {
  /** Each VM's disks as the worker opened them, by machine id. */
  private readonly attached = new Map<string, { name: string; specs: DiskOpenSpec[] }>();

  constructor(private readonly host: DiskServiceHost) {}

  /** The request handlers, merged into the lab service's table. */
  readonly handlers: DiskHandlers = {
    'disk.list': async () => {
      const files = (await this.ws.list()).filter((f) => f.kind === 'file' && isImageName(f.path));
      return Promise.all(files.map((f) => this.describe(f.path)));
    },
    'disk.create': async ({ path, format, size, backing }) => {
      const full = await this.fresh(path);
      let backingName: string | undefined;
      if (backing !== undefined) {
        const backingFile = await this.existing(backing);
        this.checkChain(backingFile);
        // Relative to the new image's real folder, where openDisk will look for it.
        backingName = relative(dirname(full.real), backingFile.real).split(sep).join('/');
      }
      this.disk(() => createDisk(full, size, { format, backing: backingName }));
      this.host.changed();
      return this.describe(path);
    },
    'disk.convert': async ({ from, to, format }) => {
      const input = await this.existing(from);
      this.checkChain(input);
      const output = await this.fresh(to);
      this.disk(() => convertDisk(input, output, format));
      this.host.changed();
      return this.describe(to);
    },
    'vm.disks': async ({ id }) => this.host.vmm().send({ op: 'disks', key: this.vm(id, 'have disks').id }),
    'vm.attachDisk': async ({ id, disk }) => {
      const vm = this.vm(id, 'attach disks to');
      const current = this.attached.get(vm.id)?.specs ?? [];
      return this.setDisks(vm, [...current, ...(await this.specs([disk]))]);
    },
    'vm.detachDisk': async ({ id, index }) => {
      const vm = this.vm(id, 'detach disks from');
      const current = this.attached.get(vm.id)?.specs ?? [];
      if (index >= current.length) throw new LabError('bad-request', `index: VM '${vm.name}' has ${current.length} disk${current.length === 1 ? '' : 's'}, no disk ${index}`);
      return this.setDisks(vm, current.filter((_, k) => k !== index));
    },
    'vm.readSector': async ({ id, index, sector }) => this.host.vmm().send({ op: 'readSector', key: this.vm(id, 'have disks').id, index, sector }),
  };

  /** Checks the disks of a new VM and names the files for the worker (confined, backing chains too). */
  async specs(disks: readonly DiskAttachmentConfig[]): Promise<DiskOpenSpec[]> {
    checkSlots(disks);
    const out: DiskOpenSpec[] = [];
    for (const d of disks) {
      const full = await this.existing(d.path);
      this.checkChain(full, d.format);
      // The resolved name: a symlink and its target are one image to the writer checks and the list;
      // the worker opens exactly it (PathPolicy.adopt) with the workspace's policy for the chain.
      const spec: DiskOpenSpec = { file: full.real, root: this.ws.root, path: d.path, readOnly: d.readOnly ?? false, legacy: d.legacy ?? true };
      if (d.format !== undefined) spec.format = d.format;
      if (d.serial !== undefined) spec.serial = d.serial;
      if (d.slot !== undefined) spec.slot = d.slot;
      out.push(spec);
    }
    return out;
  }

  /** Records the disks a VM was created with. */
  created(id: string, name: string, specs: DiskOpenSpec[]): void {
    if (specs.length > 0) this.attached.set(id, { name, specs });
  }

  /** Forgets a removed VM's disks (the worker closed them). */
  forget(id: string): void {
    this.attached.delete(id);
  }

  /** Forgets every VM's disks (the VMM is gone or was shut down). */
  forgetAll(): void {
    this.attached.clear();
  }

  private get ws(): Workspace {
    return this.host.workspace();
  }

  private vm(id: string, what: string): { id: string; name: string } {
    const m = this.host.machine(id);
    if (m.mode === 'bare') throw new LabError('bad-request', `cannot ${what} '${m.name}': disks attach to VMs (mode emulate or trap); a bare machine takes them in vmlab run --disk`);
    return m;
  }

  private async setDisks(vm: { id: string; name: string }, specs: DiskOpenSpec[]) {
    checkSlots(specs);
    const result = await this.host.vmm().send({ op: 'setDisks', key: vm.id, disks: specs });
    if (specs.length > 0) this.attached.set(vm.id, { name: vm.name, specs });
    else this.attached.delete(vm.id);
    await this.host.disksChanged?.(vm.id, specs);
    return result;
  }

  /** An image's description; one that cannot be read is listed with the reason. */
  private async describe(path: string): Promise<DiskImageInfo> {
    const full = this.ws.resolvePath(path);
    const attachedTo = [...this.attached.entries()].flatMap(([id, a]) =>
      a.specs.filter((s) => s.file === full.real).map((s) => ({ id, name: a.name, readOnly: s.readOnly })));
    try {
      const info = diskInfo(full);
      const out: DiskImageInfo = {
        path, format: info.format, virtualSize: info.virtualSize, fileSize: imageFileSize(full), diskSize: info.diskSize,
        allocatedBytes: info.allocatedBytes, attachedTo,
      };
      return {
        ...out,
        ...(info.clusterSize !== undefined && { clusterSize: info.clusterSize }),
        ...(info.backingFile !== undefined && { backingFile: info.backingFile }),
        ...(info.backingFormat !== undefined && { backingFormat: info.backingFormat }),
      };
    } catch (err) {
      return { path, format: 'raw', virtualSize: 0, fileSize: 0, diskSize: 0, allocatedBytes: 0, attachedTo, error: this.message(err) };
    }
  }

  /** An existing workspace file, resolved by the workspace's path policy. */
  private async existing(path: string): Promise<ResolvedPath> {
    const full = this.ws.resolvePath(path);
    if (!full.exists) throw new LabError('not-found', `no file '${path}' in the workspace`);
    return full;
  }

  /** A workspace file that does not exist yet, resolved by the workspace's path policy. */
  private async fresh(path: string): Promise<ResolvedPath> {
    const full = this.ws.resolvePath(path);
    if (full.exists) throw new LabError('exists', `'${path}' exists already: pick another name`);
    const dir = dirname(path);
    if (dir !== '.' && !(await this.ws.exists(dir))) throw new LabError('not-found', `no folder '${dir}' in the workspace`);
    return full;
  }

  /**
   * Refuses an image that cannot be opened as the worker would open it: read-only through openDisk with
   * the workspace's policy, which refuses a chain that leaves the workspace, a FIFO, a device or a
   * folder anywhere in it, a missing backing file, a loop or a damaged header. Messages start with
   * the image's workspace path.
   */
  private checkChain(image: ResolvedPath, format?: DiskFormat): void {
    try {
      openDisk(image, { readOnly: true, format }).close();
    } catch (err) {
      const code = err instanceof LabError ? err.code : err instanceof DiskError && err.code === 'locked' ? 'bad-state' : 'bad-request';
      const text = this.message(err);
      throw new LabError(code, text.startsWith(`${image.name}:`) || text.startsWith(`'${image.name}'`) ? text : `${image.name}: ${text}`);
    }
  }

  /** Runs a disk tool; its DiskErrors become bad requests naming workspace paths. */
  private disk(op: () => void): void {
    try {
      op();
    } catch (err) {
      if (err instanceof DiskError) throw new LabError(err.code === 'locked' ? 'bad-state' : 'bad-request', this.message(err));
      throw err;
    }
  }

  /** An error's message with host paths shown as workspace paths. */
  private message(err: unknown): string {
    const text = err instanceof Error ? err.message : String(err);
    return text.split(this.ws.root + sep).join('');
  }
}

/** Whether a file name is one the disk manager lists. */
export function isImageName(path: string): boolean {
  const p = path.toLowerCase();
  return DISK_EXTENSIONS.some((ext) => p.endsWith(ext));
}
