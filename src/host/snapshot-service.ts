// The app's snapshots (docs/snapshots.md, "In the app"): snapshot.save asks the worker that runs a
// machine to write its state into the workspace's snapshots/ folder (snapshot-state.ts, through
// snapshot-file.ts as `vmlab run --save-snapshot` writes it), snapshot.list describes the files
// there (snapshot-list.ts, each file read once per version), and snapshot.restore reads one, checks its disks and has the lab service make a new
// machine or VM from it. Every refusal is one line naming the file; nothing running is touched.

import { readdir } from 'node:fs/promises';
import type { LabParams, LabResult, MachineMode, MachineStatus, VmPlacement } from '../shared/lab-api';
import { SNAPSHOT_DIR, SNAPSHOT_EXTENSION, type SnapshotEntry } from '../shared/snapshot-api';
import { parsePlacement } from '../shared/placement';
import type { DiskAttachmentConfig } from '../shared/disk-api';
import { LabError } from './errors';
import type { MachineHost } from './machine-host';
import { checkSnapshotDisks, modeChangeProblem, readSnapshotFile, type Snapshot } from './snapshot-file';
import { SnapshotLister, type SnapshotFiles } from './snapshot-list';
import type { SnapshotTarget } from './snapshot-state';
import type { VmmHost } from './vmm-host';
import type { BootImages } from './worker-protocol';
import type { Workspace } from './workspace';

/** A machine as the snapshot service sees it. */
export interface SnapshotMachine {
  readonly id: string;
  readonly name: string;
  readonly kernel: string;
  readonly mode: MachineMode;
  readonly placement?: VmPlacement;
  readonly host?: MachineHost;
}

/** What a new machine is made from when a snapshot is restored. */
export interface RestorePlan {
  /** The workspace path of the snapshot, for the console's note. */
  readonly path: string;
  readonly snapshot: Snapshot;
  readonly name?: string;
  readonly mode: MachineMode;
  readonly kernel: string;
  readonly memSize: number;
  readonly placement?: VmPlacement;
  readonly disks: DiskAttachmentConfig[];
  readonly boot: BootImages;
}

/** What the snapshot service needs of the lab service. */
export interface SnapshotServiceHost {
  workspace(): Workspace;
  machine(id: string): SnapshotMachine;
  vmm(): VmmHost;
  /** The workspace's files changed. */
  changed(): void;
  /** Makes and registers the new machine (paused where the snapshot was taken). */
  restore(plan: RestorePlan): Promise<MachineStatus>;
}

type Handlers = { [M in 'snapshot.list' | 'snapshot.save' | 'snapshot.restore']: (p: LabParams<M>) => Promise<LabResult<M>> };

/** `contiguous`, `scattered` or the explicit pairs, as `vmlab run --place` reads them. */
export function placementText(p: VmPlacement): string {
  if (typeof p === 'string') return p;
  return p.explicit.map(([page, frame]) => `${page.toString(16)}:${frame.toString(16)}`).join(',');
}

/** Snapshot files of the workspace. */
export class SnapshotService {
  private readonly lister: SnapshotLister;

  /** `files`: how the list stats and reads files (node:fs unless a test counts them). */
  constructor(private readonly host: SnapshotServiceHost, files?: SnapshotFiles) {
    this.lister = new SnapshotLister(files);
  }

  /** The request handlers, merged into the lab service's table. */
  readonly handlers: Handlers = {
    'snapshot.list': async () => this.list(),
    'snapshot.save': async ({ id, name }) => this.save(id, name),
    'snapshot.restore': async ({ path, name, mode }) => this.restore(path, name, mode),
  };

  private get ws(): Workspace {
    return this.host.workspace();
  }

  private async list(): Promise<SnapshotEntry[]> {
    const dir = this.ws.resolvePath(SNAPSHOT_DIR);
    let names: string[];
    try {
      names = (await readdir(dir.real)).filter((n) => n.toLowerCase().endsWith(SNAPSHOT_EXTENSION));
    } catch {
      return [];
    }
    // One file's problem never hides the others: it is listed with its problem.
    const paths = new Map<string, string>();
    const refused: SnapshotEntry[] = [];
    for (const n of names) {
      const path = `${SNAPSHOT_DIR}/${n}`;
      try {
        paths.set(path, this.ws.resolvePath(path).real);
      } catch (err) {
        refused.push({ path, problem: err instanceof Error ? err.message : String(err) });
      }
    }
    const entries = [...refused, ...(await this.lister.list(paths, (full) => this.workspacePath(full)))];
    return entries.sort((a, b) => (b.created ?? '').localeCompare(a.created ?? '') || a.path.localeCompare(b.path));
  }

  /** The workspace path of an absolute host path, or undefined outside the workspace. */
  private workspacePath(full: string): string | undefined {
    const rel = this.ws.relativePath(full);
    return rel === '' || rel.startsWith('../') || rel === '..' || /^([a-z]:|\/)/i.test(rel) ? undefined : rel;
  }

  private async save(id: string, name: string | undefined): Promise<SnapshotEntry> {
    const m = this.host.machine(id);
    const stem = name ?? (await this.freeStem(m));
    const path = `${SNAPSHOT_DIR}/${stem}${SNAPSHOT_EXTENSION}`;
    await this.ws.create(SNAPSHOT_DIR, 'dir').catch((err: unknown) => {
      if (!(err instanceof LabError && err.code === 'exists')) throw err;
    });
    const target: SnapshotTarget = {
      file: this.ws.resolvePath(path).real, path, name: m.name, kernel: m.kernel,
      ...(m.placement === undefined ? {} : { place: placementText(m.placement) }),
    };
    let entry: SnapshotEntry;
    try {
      entry = m.host ? await m.host.send({ op: 'saveSnapshot', target }) : await this.host.vmm().send({ op: 'saveSnapshot', key: id, target });
    } catch (err) {
      throw new LabError('failed', err instanceof Error ? err.message : String(err));
    }
    this.host.changed();
    return entry;
  }

  /** `NAME-N`, the first N whose file does not exist yet. */
  private async freeStem(m: SnapshotMachine): Promise<string> {
    for (let n = 1; ; n++) {
      const stem = `${m.name}-${n}`;
      if (!this.ws.resolvePath(`${SNAPSHOT_DIR}/${stem}${SNAPSHOT_EXTENSION}`).exists) return stem;
    }
  }

  private async restore(path: string, name: string | undefined, mode: MachineMode | undefined): Promise<MachineStatus> {
    const file = this.ws.resolvePath(path);
    let snapshot: Snapshot;
    try {
      snapshot = readSnapshotFile(file.real, path);
    } catch (err) {
      throw new LabError('bad-request', (err as Error).message);
    }
    const c = snapshot.header.config;
    const to = mode ?? (c.mode as MachineMode);
    const modeProblem = modeChangeProblem(c.mode, to);
    if (modeProblem !== undefined) throw new LabError('bad-request', `snapshot ${path}: ${modeProblem}`);
    if (to === 'bare' && snapshot.header.disks.length > 0) {
      throw new LabError('bad-request', `snapshot ${path}: it has disks, and the app attaches disks to VMs only; restore it in a VM mode`);
    }
    const disks: DiskAttachmentConfig[] = snapshot.header.disks.map((d) => {
      const rel = this.workspacePath(d.path);
      if (rel === undefined) throw new LabError('outside-workspace', `snapshot ${path}: disk ${d.path} lies outside the workspace`);
      return { path: rel, format: d.format, readOnly: d.readOnly, legacy: d.legacy, slot: d.slot, ...(d.serial === undefined ? {} : { serial: d.serial }) };
    });
    try {
      await checkSnapshotDisks(`snapshot ${path}`, snapshot.header.disks);
    } catch (err) {
      throw new LabError('bad-state', (err as Error).message);
    }
    let placement: VmPlacement | undefined;
    if (to !== 'bare') {
      try {
        placement = c.place === undefined ? 'contiguous' : parsePlacement(c.place, c.ramSize / 4096);
      } catch (err) {
        throw new LabError('bad-request', `snapshot ${path}: its placement: ${(err as Error).message}`);
      }
    }
    const boot: BootImages = {
      ...(snapshot.firmware === undefined ? {} : { firmware: snapshot.firmware }),
      ...(snapshot.initrd === undefined ? {} : { initrd: snapshot.initrd }),
      ...(c.bootargs === undefined ? {} : { bootargs: c.bootargs }),
      ...(c.sbi ? { sbi: true } : {}),
    };
    return this.host.restore({
      path, snapshot, mode: to, kernel: c.kernelName, memSize: c.ramSize, disks, boot,
      ...(name === undefined ? {} : { name }), ...(placement === undefined ? {} : { placement }),
    });
  }
}
