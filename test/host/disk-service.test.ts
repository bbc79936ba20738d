// The disk manager through the lab service, with the real VMM worker and qemu-img (Debian
// qemu-utils) as the reference: images created, listed and converted as qemu-img describes and
// compares them; every path and backing chain confined to the workspace; malformed requests that
// change nothing; the disk lab counting its boots in a VM; the block view against the host file;
// the rules for attaching and detaching; the writer lock released when a VM goes.
import { cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDisk } from '../../src/host/disk-files';
import { LabService } from '../../src/host/lab-service';
import type { AttachedDiskInfo, DiskImageInfo, MachineStatus, SectorBlock } from '../../src/shared/lab-api';
import { qemuCheck, qemuImg, qemuImgOk, qemuIo, qemuRaw } from '../disk/support';
import { requireTool } from '../support/tools';
import { recordEvents, until } from '../support/lab';

const MiB = 1 << 20;
const root = mkdtempSync(join(tmpdir(), 'vmlab-disks-'));
/** Host files the workspace must not reach. */
const outside = mkdtempSync(join(tmpdir(), 'vmlab-disks-outside-'));
/** Where qemu-img's raw copies go (neither in the workspace nor in `outside`). */
const scratchDir = mkdtempSync(join(tmpdir(), 'vmlab-disks-scratch-'));
let lab: LabService;
const consoleText = new Map<string, string>();
const latest = new Map<string, MachineStatus>();

beforeAll(async () => {
  requireTool('qemu-img', 'qemu-utils');
  cpSync(join(__dirname, '../../labs/disk'), join(root, 'disk'), { recursive: true });
  mkdirSync(join(root, 'images'));
  lab = await LabService.create({ workspace: root });
  recordEvents(lab, { consoleText, latest });
  await lab.call('fs.write', { path: 'spin.S', text: '.globl _start\n_start:\n  addi a0, a0, 1\n  j _start\n' });
});

afterAll(() => lab?.dispose());

const create = (params: Record<string, unknown>): Promise<DiskImageInfo> => lab.call('disk.create', params) as Promise<DiskImageInfo>;
const list = (): Promise<DiskImageInfo[]> => lab.call('disk.list', {}) as Promise<DiskImageInfo[]>;
const listed = async (path: string): Promise<DiskImageInfo | undefined> => (await list()).find((d) => d.path === path);
const vmCreate = (params: Record<string, unknown>): Promise<MachineStatus> => lab.call('vm.create', params) as Promise<MachineStatus>;
const vms = (): Promise<MachineStatus[]> => lab.call('vm.list', {}) as Promise<MachineStatus[]>;
const vmDisks = (id: string): Promise<AttachedDiskInfo[]> => lab.call('vm.disks', { id }) as Promise<AttachedDiskInfo[]>;
const sector = async (id: string, index: number, n: number): Promise<Uint8Array> => ((await lab.call('vm.readSector', { id, index, sector: n })) as SectorBlock).bytes;
const output = (id: string): string => consoleText.get(id) ?? '';

/** qemu-img's description of a workspace file. */
function qemuInfo(path: string): Record<string, unknown> {
  return JSON.parse(qemuImgOk(['info', '--output=json', join(root, path)])) as Record<string, unknown>;
}

/** Bytes of the image itself that qemu-img maps as data (its backing chain not counted). */
function qemuAllocated(path: string): number {
  const map = JSON.parse(qemuImgOk(['map', '--output=json', join(root, path)])) as { length: number; depth: number; data: boolean }[];
  return map.filter((e) => e.depth === 0 && e.data).reduce((n, e) => n + e.length, 0);
}

/** Every file and link under both folders (lock files included) with its size: "nothing changed" means this is equal. */
function snapshot(): string[] {
  const out: string[] = [];
  for (const dir of [root, outside]) {
    for (const name of readdirSync(dir, { recursive: true }) as string[]) {
      const st = lstatSync(join(dir, name));
      out.push(`${dir}/${name} ${st.isSymbolicLink() ? 'link' : st.isDirectory() ? 'dir' : st.size}`);
    }
  }
  return out.sort();
}

/** Bytes `from` to `from + length` of a workspace file. */
const fileBytes = (path: string, from: number, length: number): Uint8Array => new Uint8Array(readFileSync(join(root, path)).subarray(from, from + length));

/** The disk lab's counter in sector 0: "BOOT", then the count as a little-endian word. */
function bootCount(bytes: Uint8Array): number {
  expect(new TextDecoder().decode(bytes.subarray(0, 4))).toBe('BOOT');
  return new DataView(bytes.buffer, bytes.byteOffset).getUint32(4, true);
}

/** Runs a disk-lab VM until it halts; returns its console text since `from`. */
async function boot(id: string, from = output(id).length): Promise<string> {
  await lab.call('vm.run', { id });
  await until('the disk lab to halt', () => latest.get(id)?.vmState === 'halted');
  return output(id).slice(from);
}

describe('disk images', () => {
  it('creates a raw image as qemu-img describes it: the size rounded up to 512, a sparse file', async () => {
    const info = await create({ path: 'scratch.img', format: 'raw', size: 3 * MiB + 1 });
    const q = qemuInfo('scratch.img');
    expect(q).toMatchObject({ format: 'raw', 'virtual-size': 3 * MiB + 512 });
    expect(info).toMatchObject({ path: 'scratch.img', format: 'raw', virtualSize: q['virtual-size'], fileSize: 3 * MiB + 512, diskSize: q['actual-size'], allocatedBytes: 3 * MiB + 512, attachedTo: [] });
    expect(info.diskSize).toBeLessThan(info.fileSize);
    expect(info.backingFile).toBeUndefined();
  });

  it('creates a qcow2 image that qemu-img describes and checks clean', async () => {
    const info = await create({ path: 'base.qcow2', format: 'qcow2', size: 4 * MiB });
    const q = qemuInfo('base.qcow2');
    expect(q).toMatchObject({ format: 'qcow2', 'virtual-size': 4 * MiB, 'cluster-size': 65536, 'format-specific': { data: { compat: '1.1' } } });
    expect(info).toMatchObject({ format: 'qcow2', virtualSize: 4 * MiB, clusterSize: 65536, diskSize: q['actual-size'], allocatedBytes: 0, attachedTo: [] });
    expect(info.fileSize).toBe(readFileSync(join(root, 'base.qcow2')).length);
    expect(qemuCheck(join(root, 'base.qcow2')).code).toBe(0);
  });

  it('creates a qcow2 overlay on a backing file in another folder, named relative to the overlay', async () => {
    qemuIo(join(root, 'base.qcow2'), ['write -P 0x5a 64k 64k', 'write -P 0xa5 1M 4k']);
    const info = await create({ path: 'images/top.qcow2', format: 'qcow2', backing: 'base.qcow2' });
    const q = qemuInfo('images/top.qcow2');
    expect(q).toMatchObject({ format: 'qcow2', 'virtual-size': 4 * MiB, 'backing-filename': '../base.qcow2', 'backing-filename-format': 'qcow2' });
    expect(resolve(q['full-backing-filename'] as string)).toBe(join(root, 'base.qcow2'));
    expect(info).toMatchObject({ virtualSize: 4 * MiB, backingFile: '../base.qcow2', backingFormat: 'qcow2', allocatedBytes: 0 });
    // The overlay reads its backing file's data: the same bytes for qemu-img as for the base.
    expect(qemuImg(['compare', join(root, 'images/top.qcow2'), join(root, 'base.qcow2')]).code).toBe(0);
    // With a size of its own, larger than the backing file's.
    const big = await create({ path: 'images/big.qcow2', format: 'qcow2', backing: 'scratch.img', size: 8 * MiB });
    expect(qemuInfo('images/big.qcow2')).toMatchObject({ 'virtual-size': 8 * MiB, 'backing-filename': '../scratch.img', 'backing-filename-format': 'raw' });
    expect(big).toMatchObject({ virtualSize: 8 * MiB, backingFile: '../scratch.img', backingFormat: 'raw' });
    expect(qemuCheck(join(root, 'images/big.qcow2')).code).toBe(0);
  });

  it('lists every image with format, sizes, allocation and backing file; other files are not listed', async () => {
    const all = await list();
    expect(all.map((d) => d.path).sort()).toEqual(['base.qcow2', 'images/big.qcow2', 'images/top.qcow2', 'scratch.img']);
    for (const d of all) {
      const q = qemuInfo(d.path);
      // A raw image defines every byte of its disk (qemu-img map calls its holes "not data").
      const allocated = d.format === 'raw' ? q['virtual-size'] : qemuAllocated(d.path);
      expect({ format: d.format, virtualSize: d.virtualSize, diskSize: d.diskSize, allocatedBytes: d.allocatedBytes, backingFile: d.backingFile })
        .toEqual({ format: q.format, virtualSize: q['virtual-size'], diskSize: q['actual-size'], allocatedBytes: allocated, backingFile: q['backing-filename'] });
      expect(d.fileSize).toBe(readFileSync(join(root, d.path)).length);
      expect(d.attachedTo).toEqual([]);
      expect(d.error).toBeUndefined();
    }
    expect(all.find((d) => d.path === 'base.qcow2')!.allocatedBytes).toBe(64 * 1024 * 2);
  });

  it('lists a file it cannot read as an image with the reason', async () => {
    writeFileSync(join(root, 'broken.qcow2'), Buffer.from([0x51, 0x46, 0x49, 0xfb, 0, 0, 0, 9]));
    const d = await listed('broken.qcow2');
    expect(d).toMatchObject({ format: 'raw', virtualSize: 0 });
    expect(d!.error).toBeTruthy();
    expect(d!.error).not.toContain(root);
    await lab.call('fs.delete', { path: 'broken.qcow2' });
  });

  it('saves an image as another (convert): qemu-img compare finds the same contents, the backing chain flattened', async () => {
    const raw = await lab.call('disk.convert', { from: 'images/top.qcow2', to: 'flat.img', format: 'raw' }) as DiskImageInfo;
    expect(raw).toMatchObject({ path: 'flat.img', format: 'raw', virtualSize: 4 * MiB });
    expect(qemuInfo('flat.img')).toMatchObject({ format: 'raw', 'virtual-size': 4 * MiB });
    expect(qemuImg(['compare', join(root, 'images/top.qcow2'), join(root, 'flat.img')]).code).toBe(0);
    const copy = await lab.call('disk.convert', { from: 'images/top.qcow2', to: 'images/copy.qcow2', format: 'qcow2' }) as DiskImageInfo;
    expect(copy.backingFile).toBeUndefined();
    expect(qemuInfo('images/copy.qcow2')['backing-filename']).toBeUndefined();
    expect(copy.allocatedBytes).toBe(qemuAllocated('images/copy.qcow2'));
    expect(qemuImg(['compare', join(root, 'images/top.qcow2'), join(root, 'images/copy.qcow2')]).code).toBe(0);
    expect(qemuCheck(join(root, 'images/copy.qcow2')).code).toBe(0);
    // A different byte is found by compare: the check has teeth.
    qemuIo(join(root, 'images/copy.qcow2'), ['write -P 0x01 2M 512']);
    expect(qemuImg(['compare', join(root, 'images/top.qcow2'), join(root, 'images/copy.qcow2')]).code).toBe(1);
  });

  it('refuses to overwrite an existing file or to write into a missing folder', async () => {
    const before = snapshot();
    await expect(create({ path: 'scratch.img', format: 'raw', size: MiB })).rejects.toMatchObject({ code: 'exists' });
    await expect(lab.call('disk.convert', { from: 'base.qcow2', to: 'flat.img', format: 'raw' })).rejects.toMatchObject({ code: 'exists' });
    await expect(create({ path: 'nowhere/x.img', format: 'raw', size: MiB })).rejects.toMatchObject({ code: 'not-found' });
    await expect(lab.call('disk.convert', { from: 'missing.qcow2', to: 'x.img', format: 'raw' })).rejects.toMatchObject({ code: 'not-found' });
    expect(snapshot()).toEqual(before);
  });
});

describe('confinement', () => {
  beforeAll(() => {
    writeFileSync(join(outside, 'secret.img'), Buffer.alloc(MiB, 0x77));
    qemuImgOk(['create', '-q', '-f', 'qcow2', join(outside, 'far.qcow2'), '1M']);
    symlinkSync(outside, join(root, 'out'));
    symlinkSync(join(outside, 'secret.img'), join(root, 'secret.img'));
    // Images inside the workspace whose backing file lies outside: by absolute name and by '..'.
    qemuImgOk(['create', '-q', '-f', 'qcow2', '-F', 'raw', '-b', join(outside, 'secret.img'), join(root, 'leak.qcow2')]);
    qemuImgOk(['create', '-q', '-f', 'qcow2', '-F', 'qcow2', '-b', `../${outside.split('/').pop()}/far.qcow2`, join(root, 'leak2.qcow2')]);
    // One step removed: an overlay inside on an image inside whose own backing file is outside.
    qemuImgOk(['create', '-q', '-f', 'qcow2', '-F', 'qcow2', '-b', '../leak.qcow2', join(root, 'images/chain.qcow2')]);
  });

  const refused: [string, Record<string, unknown>][] = [
    ['disk.create', { path: '../x.img', format: 'raw', size: MiB }],
    ['disk.create', { path: 'images/../../x.img', format: 'raw', size: MiB }],
    ['disk.create', { path: '/tmp/x.img', format: 'raw', size: MiB }],
    ['disk.create', { path: 'out/x.img', format: 'raw', size: MiB }],
    ['disk.create', { path: 'x.qcow2', format: 'qcow2', backing: '../secret.img' }],
    ['disk.create', { path: 'x.qcow2', format: 'qcow2', backing: join(outside, 'secret.img') }],
    ['disk.create', { path: 'x.qcow2', format: 'qcow2', backing: 'secret.img' }],
    ['disk.create', { path: 'x.qcow2', format: 'qcow2', backing: 'out/far.qcow2' }],
    ['disk.create', { path: 'x.qcow2', format: 'qcow2', backing: 'leak.qcow2' }],
    ['disk.create', { path: 'x.qcow2', format: 'qcow2', backing: 'images/chain.qcow2' }],
    ['disk.convert', { from: 'secret.img', to: 'x.img', format: 'raw' }],
    ['disk.convert', { from: 'out/secret.img', to: 'x.img', format: 'raw' }],
    ['disk.convert', { from: 'leak.qcow2', to: 'x.img', format: 'raw' }],
    ['disk.convert', { from: 'leak2.qcow2', to: 'x.img', format: 'raw' }],
    ['disk.convert', { from: 'images/chain.qcow2', to: 'x.img', format: 'raw' }],
    ['disk.convert', { from: 'base.qcow2', to: '../x.img', format: 'raw' }],
    ['disk.convert', { from: 'base.qcow2', to: 'out/x.img', format: 'raw' }],
    ['disk.convert', { from: 'base.qcow2', to: join(outside, 'x.img'), format: 'raw' }],
    ['vm.create', { kernel: 'disk/disk.S', mode: 'trap', disks: [{ path: 'leak.qcow2' }] }],
    ['vm.create', { kernel: 'disk/disk.S', mode: 'trap', disks: [{ path: 'images/chain.qcow2', readOnly: true }] }],
    ['vm.create', { kernel: 'disk/disk.S', mode: 'trap', disks: [{ path: 'secret.img', readOnly: true }] }],
    ['vm.create', { kernel: 'disk/disk.S', mode: 'trap', disks: [{ path: '../secret.img' }] }],
    ['vm.create', { kernel: 'disk/disk.S', mode: 'trap', disks: [{ path: join(outside, 'secret.img') }] }],
  ];

  it.each(refused)('%s %j is refused and creates nothing', async (method, params) => {
    const before = snapshot();
    const machines = await vms();
    const err = await lab.call(method, params).then(() => undefined, (e: unknown) => e as { code: string; message: string });
    expect(err).toBeDefined();
    expect(['outside-workspace', 'bad-request']).toContain(err!.code);
    expect(snapshot()).toEqual(before);
    expect(await vms()).toEqual(machines);
  });

  it('names the backing file that leaves the workspace', async () => {
    await expect(lab.call('disk.convert', { from: 'leak.qcow2', to: 'x.img', format: 'raw' })).rejects.toMatchObject({ code: 'outside-workspace', message: expect.stringMatching(/leak\.qcow2: its backing file, an absolute path, lies outside the workspace/) });
    await expect(lab.call('disk.convert', { from: 'images/chain.qcow2', to: 'x.img', format: 'raw' })).rejects.toMatchObject({ code: 'outside-workspace', message: expect.stringContaining('images/chain.qcow2') });
  });

  it('lists neither symlinks leading out nor their targets; images with such a backing file are listed', async () => {
    const paths = (await list()).map((d) => d.path);
    expect(paths).not.toContain('secret.img');
    expect(paths.some((p) => p.startsWith('out/'))).toBe(false);
    expect(paths).toContain('leak.qcow2');
  });
});

describe('malformed requests', () => {
  const malformed: [string, Record<string, unknown>, RegExp][] = [
    ['disk.create', { path: 'm.img', format: 'vmdk', size: MiB }, /format/],
    ['disk.create', { path: 'm.img', format: 'raw' }, /a size is needed/],
    ['disk.create', { path: 'm.qcow2', format: 'qcow2' }, /a size is needed/],
    ['disk.create', { path: 'm.img', format: 'raw', size: MiB, backing: 'base.qcow2' }, /only a qcow2 image has a backing file/],
    ['disk.create', { path: 'm.img', format: 'raw', size: 100 }, /size/],
    ['disk.create', { path: 'm.img', format: 'raw', size: 1024.5 }, /size/],
    ['disk.create', { path: 'm.img', format: 'raw', size: 2 ** 40 }, /size/],
    ['disk.create', { path: 'm.txt', format: 'raw', size: MiB }, /\.img, \.raw, \.qcow2/],
    ['disk.create', { path: 'm.img', format: 'raw', size: MiB, extra: 1 }, /extra|unrecognized/i],
    ['disk.convert', { from: 'base.qcow2', to: 'm.img' }, /format/],
    ['disk.convert', { from: 'base.qcow2', to: 'm.elf', format: 'raw' }, /\.img, \.raw, \.qcow2/],
    ['vm.create', { kernel: 'disk/disk.S', mode: 'trap', disks: Array.from({ length: 9 }, (_, k) => ({ path: `d${k}.img` })) }, /at most 8 disks/],
    ['vm.create', { kernel: 'disk/disk.S', mode: 'trap', disks: [{ path: 'scratch.img', serial: 'x'.repeat(21) }] }, /serial/],
    ['vm.create', { kernel: 'disk/disk.S', mode: 'trap', disks: [{ path: 'scratch.img', serial: 'tab\there' }] }, /serial/],
    ['vm.create', { kernel: 'disk/disk.S', mode: 'trap', disks: [{ path: 'scratch.img', format: 'vdi' }] }, /format/],
    ['vm.create', { kernel: 'disk/disk.S', mode: 'bare', disks: [{ path: 'scratch.img' }] }, /disks attach to VMs/],
    ['vm.attachDisk', { id: 'm1', disk: { path: 'scratch.img', serial: 'é' } }, /serial/],
    ['vm.attachDisk', { id: 'm1', disk: { path: 'scratch.img', readOnly: 'yes' } }, /readOnly/],
    ['vm.attachDisk', { id: 'm1', disk: { path: 'scratch.img', slot: 8 } }, /slot/],
    ['vm.detachDisk', { id: 'm1', index: 8 }, /index/],
    ['vm.readSector', { id: 'm1', index: 0, sector: -1 }, /sector/],
    ['vm.readSector', { id: 'm1', index: 0, sector: 0.5 }, /sector/],
  ];

  it.each(malformed)('%s %j is a bad request and changes nothing', async (method, params, message) => {
    const before = snapshot();
    const machines = await vms();
    await expect(lab.call(method, params)).rejects.toMatchObject({ code: 'bad-request', message: expect.stringMatching(message) });
    expect(snapshot()).toEqual(before);
    expect(await vms()).toEqual(machines);
  });
});

describe('a VM with a disk', () => {
  let counter: MachineStatus;

  it('boots the disk lab, which counts its boots on the disk', async () => {
    await create({ path: 'boot.img', format: 'raw', size: MiB });
    counter = await vmCreate({ kernel: 'disk/disk.S', mode: 'trap', name: 'counter', disks: [{ path: 'boot.img' }] });
    expect(counter).toMatchObject({ vmState: 'paused', instret: 0 });
    expect(await boot(counter.id)).toBe(readFileSync(join(root, 'disk/expected-output.txt'), 'utf8'));
    expect(latest.get(counter.id)).toMatchObject({ state: 'exited', exitCode: 0 });
    expect(bootCount(fileBytes('boot.img', 0, 512))).toBe(1);
  });

  it('describes the VM\'s disk with its slot and the guest\'s requests; the list names the VM', async () => {
    const [d] = await vmDisks(counter.id);
    expect(d).toMatchObject({ index: 0, address: 0x10008000, path: 'boot.img', format: 'raw', readOnly: false, legacy: true, size: MiB });
    expect(d.stats).toMatchObject({ reads: 1, writes: 1, flushes: 1, bytesRead: 512, bytesWritten: 512, ioErrors: 0 });
    expect((await listed('boot.img'))!.attachedTo).toEqual([{ id: counter.id, name: 'counter', readOnly: false }]);
  });

  it('shows a sector as the host file holds it', async () => {
    for (const n of [0, 1, 2047]) expect(await sector(counter.id, 0, n)).toEqual(fileBytes('boot.img', n * 512, 512));
    await expect(lab.call('vm.readSector', { id: counter.id, index: 0, sector: 2048 })).rejects.toThrow(/past the end of disk 0 \(2048 sectors\)/);
    await expect(lab.call('vm.readSector', { id: counter.id, index: 1, sector: 0 })).rejects.toThrow(/no disk 1/);
  });

  it('counts on after a reset', async () => {
    expect(await lab.call('vm.reset', { id: counter.id })).toMatchObject({ vmState: 'paused', instret: 0 });
    expect(await boot(counter.id)).toContain('boot 2\n');
    expect(bootCount(await sector(counter.id, 0, 0))).toBe(2);
    expect(bootCount(fileBytes('boot.img', 0, 512))).toBe(2);
  });

  it('shows a qcow2 disk\'s sectors as qemu-img convert -O raw reads them, backing file included', async () => {
    await create({ path: 'boot.qcow2', format: 'qcow2', size: MiB });
    const q = await vmCreate({ kernel: 'disk/disk.S', mode: 'emulate', name: 'qcounter', disks: [{ path: 'boot.qcow2', legacy: false, serial: 'q-1' }] });
    const out = await boot(q.id);
    expect(out).toContain('modern transport (version 2)');
    expect(out).toContain('boot 1\n');
    const [d] = await vmDisks(q.id);
    expect(d).toMatchObject({ format: 'qcow2', legacy: false, serial: 'q-1', size: MiB });
    let flat = qemuRaw(join(root, 'boot.qcow2'), scratchDir);
    for (const n of [0, 1, 1000]) expect(await sector(q.id, 0, n)).toEqual(new Uint8Array(flat.subarray(n * 512, n * 512 + 512)));
    expect(bootCount(await sector(q.id, 0, 0))).toBe(1);
    // An overlay whose backing file holds data the guest never wrote: the block view reads through.
    await create({ path: 'images/over.qcow2', format: 'qcow2', backing: 'base.qcow2' });
    const o = await vmCreate({ kernel: 'disk/disk.S', mode: 'trap', name: 'overlay', disks: [{ path: 'images/over.qcow2' }] });
    expect(await boot(o.id)).toContain('boot 1\n');
    flat = qemuRaw(join(root, 'images/over.qcow2'), scratchDir);
    for (const n of [0, 128, 129, 2048, 2055]) expect(await sector(o.id, 0, n)).toEqual(new Uint8Array(flat.subarray(n * 512, n * 512 + 512)));
    expect([...(await sector(o.id, 0, 128)).subarray(0, 4)]).toEqual([0x5a, 0x5a, 0x5a, 0x5a]);
    expect([...(await sector(o.id, 0, 2048)).subarray(0, 4)]).toEqual([0xa5, 0xa5, 0xa5, 0xa5]);
    // The guest's write went to the overlay, not to the base.
    expect(qemuRaw(join(root, 'base.qcow2'), scratchDir).subarray(0, 4)).toEqual(Buffer.alloc(4));
    for (const id of [q.id, o.id]) await lab.call('vm.destroy', { id });
    expect(qemuCheck(join(root, 'boot.qcow2')).code).toBe(0);
    expect(qemuCheck(join(root, 'images/over.qcow2')).code).toBe(0);
  });

  it('refuses the block view and disk changes while the VM runs', async () => {
    await create({ path: 'spin.img', format: 'raw', size: MiB });
    const spin = await vmCreate({ kernel: 'spin.S', mode: 'trap', name: 'spinner', disks: [{ path: 'spin.img' }] });
    await lab.call('vm.run', { id: spin.id });
    await until('the spinner to run', async () => (await vms()).find((s) => s.id === spin.id)!.instret > 1000);
    await expect(lab.call('vm.readSector', { id: spin.id, index: 0, sector: 0 })).rejects.toMatchObject({ code: 'bad-state', message: expect.stringMatching(/while it runs: pause it first/) });
    await expect(lab.call('vm.attachDisk', { id: spin.id, disk: { path: 'scratch.img' } })).rejects.toMatchObject({ code: 'bad-state', message: expect.stringMatching(/is running: stop or reset it/) });
    await expect(lab.call('vm.detachDisk', { id: spin.id, index: 0 })).rejects.toMatchObject({ code: 'bad-state' });
    // Paused after it booted: the block view works, the disks stay as they are.
    await lab.call('vm.pause', { id: spin.id });
    expect(await sector(spin.id, 0, 0)).toEqual(fileBytes('spin.img', 0, 512));
    await expect(lab.call('vm.attachDisk', { id: spin.id, disk: { path: 'scratch.img' } })).rejects.toMatchObject({ code: 'bad-state', message: expect.stringMatching(/paused after it booted/) });
    await expect(lab.call('vm.detachDisk', { id: spin.id, index: 0 })).rejects.toMatchObject({ code: 'bad-state', message: expect.stringMatching(/paused after it booted/) });
    expect((await vmDisks(spin.id)).map((d) => d.path)).toEqual(['spin.img']);
    // Stopped: allowed, and the VM comes back paused at the reset vector with the new list.
    expect(await lab.call('vm.stop', { id: spin.id })).toMatchObject({ vmState: 'stopped' });
    const after = (await lab.call('vm.attachDisk', { id: spin.id, disk: { path: 'scratch.img', readOnly: true } })) as AttachedDiskInfo[];
    expect(after.map((d) => [d.index, d.address, d.path, d.readOnly])).toEqual([[0, 0x10008000, 'spin.img', false], [1, 0x10007000, 'scratch.img', true]]);
    expect((await vms()).find((s) => s.id === spin.id)).toMatchObject({ vmState: 'paused', instret: 0 });
    // Paused before its first instruction: detaching is allowed too.
    expect(((await lab.call('vm.detachDisk', { id: spin.id, index: 0 })) as AttachedDiskInfo[]).map((d) => [d.index, d.address, d.path])).toEqual([[0, 0x10008000, 'scratch.img']]);
    await expect(lab.call('vm.detachDisk', { id: spin.id, index: 3 })).rejects.toMatchObject({ code: 'bad-request', message: expect.stringMatching(/has 1 disk, no disk 3/) });
    await lab.call('vm.destroy', { id: spin.id });
  });

  it('attaches to a halted VM, which boots from its new disk list', async () => {
    // counter has halted; a second disk takes index 1 (slot 6), the lab finds the lowest slot first.
    await create({ path: 'second.img', format: 'raw', size: MiB });
    const disks = (await lab.call('vm.attachDisk', { id: counter.id, disk: { path: 'second.img' } })) as AttachedDiskInfo[];
    expect(disks.map((d) => [d.path, d.address])).toEqual([['boot.img', 0x10008000], ['second.img', 0x10007000]]);
    expect(await boot(counter.id)).toContain('virtio-blk at 0x10007000');
    expect(bootCount(fileBytes('second.img', 0, 512))).toBe(1);
    expect(bootCount(fileBytes('boot.img', 0, 512))).toBe(2);
    // Halted again: detach the second disk; the first counts on.
    expect(((await lab.call('vm.detachDisk', { id: counter.id, index: 1 })) as AttachedDiskInfo[]).map((d) => d.path)).toEqual(['boot.img']);
    expect((await listed('second.img'))!.attachedTo).toEqual([]);
    expect(await boot(counter.id)).toContain('boot 3\n');
  });

  it('attaches a disk in the slot asked for (QEMU bus=virtio-mmio-bus.N); a taken slot is a bad request', async () => {
    const disks = (await lab.call('vm.attachDisk', { id: counter.id, disk: { path: 'second.img', slot: 0 } })) as AttachedDiskInfo[];
    expect(disks.map((d) => [d.path, d.slot, d.address])).toEqual([['boot.img', 7, 0x10008000], ['second.img', 0, 0x10001000]]);
    expect(await boot(counter.id)).toContain('virtio-blk at 0x10001000');
    expect(((await lab.call('vm.detachDisk', { id: counter.id, index: 1 })) as AttachedDiskInfo[]).map((d) => d.path)).toEqual(['boot.img']);
    await expect(lab.call('vm.attachDisk', { id: counter.id, disk: { path: 'second.img', slot: 7 } }))
      .rejects.toMatchObject({ code: 'bad-request', message: 'disks: disk 1: virtio-mmio slot 7 is taken by an earlier disk' });
    expect((await vmDisks(counter.id)).map((d) => d.path)).toEqual(['boot.img']);
    expect(bootCount(fileBytes('boot.img', 0, 512))).toBe(3);
  });

  it('refuses a second writer of an image; read-only is allowed', async () => {
    const before = await vms();
    await expect(vmCreate({ kernel: 'disk/disk.S', mode: 'emulate', name: 'thief', disks: [{ path: 'boot.img' }] }))
      .rejects.toMatchObject({ message: expect.stringMatching(/disk boot\.img is attached for writing to VM 'counter': detach it there, or attach it read-only/) });
    expect(await vms()).toEqual(before);
    const reader = await vmCreate({ kernel: 'disk/disk.S', mode: 'emulate', name: 'reader', disks: [{ path: 'boot.img', readOnly: true }] });
    expect((await listed('boot.img'))!.attachedTo).toEqual([{ id: counter.id, name: 'counter', readOnly: false }, { id: reader.id, name: 'reader', readOnly: true }]);
    // The reader's guest write fails with IOERR: the lab says so and exits 2; the count is unchanged.
    await lab.call('vm.run', { id: reader.id });
    await until('the reader to halt', () => latest.get(reader.id)?.vmState === 'halted');
    expect(latest.get(reader.id)!.exitCode).toBe(2);
    expect((await vmDisks(reader.id))[0].stats).toMatchObject({ ioErrors: 1 });
    expect(bootCount(fileBytes('boot.img', 0, 512))).toBe(3);
    // Attaching it for writing to another VM is refused the same way, and leaves that VM's disks alone.
    const other = await vmCreate({ kernel: 'spin.S', mode: 'emulate', name: 'other', disks: [{ path: 'scratch.img' }] });
    await expect(lab.call('vm.attachDisk', { id: other.id, disk: { path: 'boot.img' } })).rejects.toThrow(/disk boot\.img is attached for writing to VM 'counter'/);
    expect((await vmDisks(other.id)).map((d) => d.path)).toEqual(['scratch.img']);
    // A writable image is attached once per VM, even beside a read-only attachment of itself.
    await expect(lab.call('vm.attachDisk', { id: other.id, disk: { path: 'scratch.img', readOnly: true } })).rejects.toThrow(/attached twice to this VM/);
    await lab.call('vm.destroy', { id: other.id });
    // Nor can an alias (a symlink inside the workspace) open the same image for writing.
    symlinkSync('boot.img', join(root, 'alias.img'));
    await expect(vmCreate({ kernel: 'disk/disk.S', mode: 'emulate', name: 'alias', disks: [{ path: 'alias.img' }] })).rejects.toThrow(/attached for writing to VM 'counter'/);
    await lab.call('vm.destroy', { id: reader.id });
  });

  it('destroying the VM flushes its disk and releases the lock: a fresh writer opens it', async () => {
    expect(() => openDisk(join(root, 'boot.img'))).toThrow(/already open for writing/);
    expect(existsSync(join(root, 'boot.img.lock'))).toBe(true);
    // The lock is the disk layer's file: the workspace tree does not list it.
    const files = (await lab.call('fs.list', {})) as { path: string }[];
    expect(files.map((f) => f.path)).toContain('boot.img');
    expect(files.map((f) => f.path)).not.toContain('boot.img.lock');
    await lab.call('vm.destroy', { id: counter.id });
    expect(existsSync(join(root, 'boot.img.lock'))).toBe(false);
    const disk = openDisk(join(root, 'boot.img'));
    disk.close();
    expect((await listed('boot.img'))!.attachedTo).toEqual([]);
    expect(bootCount(fileBytes('boot.img', 0, 512))).toBe(3);
    // The image attaches again to a new VM, which counts on.
    const again = await vmCreate({ kernel: 'disk/disk.S', mode: 'trap', name: 'again', disks: [{ path: 'alias.img' }] });
    expect(await boot(again.id)).toContain('boot 4\n');
    await lab.call('vm.destroy', { id: again.id });
  });

  it('refuses disks on a bare machine', async () => {
    const bare = await vmCreate({ kernel: 'spin.S', mode: 'bare', name: 'bare' });
    await expect(lab.call('vm.attachDisk', { id: bare.id, disk: { path: 'scratch.img' } })).rejects.toMatchObject({ code: 'bad-request', message: expect.stringMatching(/disks attach to VMs/) });
    await expect(lab.call('vm.disks', { id: bare.id })).rejects.toMatchObject({ code: 'bad-request' });
    await expect(lab.call('vm.disks', { id: 'm999' })).rejects.toMatchObject({ code: 'not-found' });
    await lab.call('vm.destroy', { id: bare.id });
  });
});
