// The disk manager's state (docs/disks.md, docs/app.md): the workspace's disk images, kept fresh on fs.changed
// and whenever a machine changes state (a guest's writes grow a qcow2 file, a new VM attaches an
// image), and the requests of the Disks view and the New VM form. One instance per LabState, so the
// view keeps its place when its tab is left and shown again.

import type {
  AttachedDiskInfo, DiskAttachmentConfig, DiskFormat, DiskImageInfo, MachineStatus, SectorBlock,
} from '../../../shared/lab-api';
import type { LabState } from './lab-state.svelte';

/** Size units of the create form, in bytes. */
export const SIZE_UNITS: readonly { readonly name: string; readonly bytes: number }[] = [
  { name: 'KiB', bytes: 1024 },
  { name: 'MiB', bytes: 1024 ** 2 },
  { name: 'GiB', bytes: 1024 ** 3 },
];

/** The file name ending of each format, as `vmlab disk create` and qemu-img users name them. */
export const FORMAT_EXTENSION: Record<DiskFormat, string> = { qcow2: '.qcow2', raw: '.img' };

/** Milliseconds between a state change and the re-read of the image list it causes. */
const REFRESH_DELAY = 150;

/** A byte count in binary units: exact ("1 MiB", "196 KiB") or with one decimal ("1.5 MiB"). */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = -1;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${Number.isInteger(v) ? v : v.toFixed(1)} ${units[u]}`;
}

/** A file name with its disk-image ending replaced by the one of `format` (other names unchanged). */
export function withFormatExtension(path: string, format: DiskFormat): string {
  const m = /\.(img|raw|qcow2)$/i.exec(path);
  return m ? path.slice(0, m.index) + FORMAT_EXTENSION[format] : path;
}

/** Whether a VM's disk list may change now: it runs no more (stopped, halted, crashed) or has not begun. */
export function disksChangeable(s: MachineStatus): boolean {
  return s.state === 'exited' || s.state === 'error' || (s.state === 'paused' && s.instret === 0);
}

/** Whether a machine is executing (running, or waiting in WFI for an interrupt). */
export function isRunning(s: MachineStatus): boolean {
  return s.state === 'running' || s.state === 'idle';
}

/** The workspace's disk images and the disk requests. */
export class DiskState {
  images = $state<DiskImageInfo[]>([]);
  /** Bumped when any VM's disks may have changed (attach, detach, a state change), so views re-read them. */
  version = $state(0);
  private readonly states = new Map<string, string>();
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly app: LabState) {
    app.lab.on('fs.changed', () => this.refreshSoon());
    app.lab.on('vm.destroyed', ({ id }) => {
      this.states.delete(id);
      this.refreshSoon();
    });
    app.lab.on('vm.status', (s) => {
      if (this.states.get(s.id) === s.state) return;
      this.states.set(s.id, s.state);
      this.refreshSoon();
    });
    void this.refresh();
  }

  /** Re-reads the image list now. */
  async refresh(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const list = await this.app.lab.call('disk.list', {}).catch(() => undefined);
    if (list) this.images = list;
    this.version++;
  }

  /** Re-reads the image list shortly (several events in a row cost one request). */
  refreshSoon(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.refresh(), REFRESH_DELAY);
  }

  /** Creates an image. */
  async create(path: string, format: DiskFormat, size: number | undefined, backing: string | undefined): Promise<DiskImageInfo> {
    const info = await this.app.lab.call('disk.create', {
      path, format, ...(size !== undefined && { size }), ...(backing !== undefined && { backing }),
    });
    await this.refresh();
    this.app.inform(`${info.path}: created (${info.format}, ${formatBytes(info.virtualSize)}${info.backingFile ? ` on ${info.backingFile}` : ''})`);
    return info;
  }

  /** Save as: copies an image, its backing chain flattened, into a new one. */
  async convert(from: string, to: string, format: DiskFormat): Promise<DiskImageInfo> {
    const info = await this.app.lab.call('disk.convert', { from, to, format });
    await this.refresh();
    this.app.inform(`${from} saved as ${info.path} (${info.format})`);
    return info;
  }

  /** The disks attached to VM `id`. */
  attached(id: string): Promise<AttachedDiskInfo[]> {
    return this.app.lab.call('vm.disks', { id });
  }

  /** Attaches an image to VM `id` (which reboots, paused). */
  async attach(id: string, disk: DiskAttachmentConfig): Promise<AttachedDiskInfo[]> {
    const disks = await this.app.lab.call('vm.attachDisk', { id, disk });
    await this.refresh();
    const d = disks[disks.length - 1];
    this.app.inform(`${this.name(id)}: ${d.path} attached as disk ${d.index} (${d.readOnly ? 'read-only' : 'read-write'}); the VM rebooted, paused`);
    return disks;
  }

  /** Detaches disk `index` of VM `id` (flushed and closed). */
  async detach(id: string, index: number): Promise<AttachedDiskInfo[]> {
    const path = (await this.attached(id))[index]?.path ?? `disk ${index}`;
    const disks = await this.app.lab.call('vm.detachDisk', { id, index });
    await this.refresh();
    this.app.inform(`${this.name(id)}: ${path} detached; the VM rebooted, paused`);
    return disks;
  }

  /** Sector `sector` of disk `index` of VM `id`, as the guest reads it. */
  readSector(id: string, index: number, sector: number): Promise<SectorBlock> {
    return this.app.lab.call('vm.readSector', { id, index, sector });
  }

  private name(id: string): string {
    return this.app.machines.find((m) => m.status.id === id)?.status.name ?? id;
  }
}

const instances = new WeakMap<LabState, DiskState>();

/** The disk state of an app (made on first use). */
export function diskState(app: LabState): DiskState {
  let s = instances.get(app);
  if (!s) {
    s = new DiskState(app);
    instances.set(app, s);
  }
  return s;
}
