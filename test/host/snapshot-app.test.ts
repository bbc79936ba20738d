// Snapshots through the LabApi (snapshot.save, snapshot.list, snapshot.restore) with the real
// workers: a machine saved part way, restored as a new machine beside the original (so a VM's
// pages land in other host frames) and run to its end prints exactly the rest of the original's
// output and ends with its instruction count and exit code, bare and in every mode, also across
// modes; a changed disk image (named in the list first), damaged or truncated files and a pv snapshot in another mode are
// refused in one line and leave every machine as it was.
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeEnvelope } from '../../src/host/envelope-file';
import { LabService } from '../../src/host/lab-service';
import type { MachineMode, MachineStatus, SnapshotEntry } from '../../src/shared/lab-api';
import { recordEvents, until } from '../support/lab';

let lab: LabService;
let root: string;
const consoleText = new Map<string, string>();
const latest = new Map<string, MachineStatus>();

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'vmlab-snap-'));
  for (const name of ['traps', 'disk']) cpSync(join(__dirname, '../../labs', name), join(root, name), { recursive: true });
  lab = await LabService.create({ workspace: root });
  recordEvents(lab, { consoleText, latest });
});

afterAll(() => lab.dispose());

const call = <T>(method: string, params: unknown): Promise<T> => lab.call(method, params) as Promise<T>;
const list = (): Promise<MachineStatus[]> => call('vm.list', {});

/** Runs a machine to its end; returns its console text and last status. */
async function runToEnd(id: string): Promise<{ text: string; status: MachineStatus }> {
  await call('vm.run', { id });
  await until(`machine ${id} to end`, () => ['exited', 'error'].includes(latest.get(id)?.state ?? ''), 60_000);
  return { text: consoleText.get(id) ?? '', status: latest.get(id)! };
}

/** The console text after vmlab's own note of the restore. */
function afterNote(text: string): string {
  const m = /\[vmlab: restored from [^\]]*\]\n/.exec(text);
  expect(m, text).not.toBeNull();
  return text.slice(m!.index + m![0].length);
}

async function destroyAll(): Promise<void> {
  for (const m of await list()) await call('vm.destroy', { id: m.id });
}

describe('save, restore and continue', () => {
  const cases: [kernel: string, from: MachineMode, to: MachineMode, cut: number][] = [
    ['traps/traps.S', 'bare', 'bare', 3_000],
    ['traps/traps.S', 'emulate', 'emulate', 2_500],
    ['traps/traps.S', 'trap', 'trap', 4_000],
    ['traps/traps.S', 'bt', 'bt', 3_500],
    ['traps/traps-pv.S', 'pv', 'pv', 3_000],
    ['traps/traps.S', 'hw', 'hw', 5_000],
    ['traps/traps.S', 'bare', 'trap', 3_000],
    ['traps/traps.S', 'emulate', 'hw', 2_000],
  ];
  it.each(cases)('%s saved in %s, restored in %s, after %i steps: the rest of the output, the same instructions and exit', async (kernel, from, to, cut) => {
    const a = await call<MachineStatus>('vm.create', { kernel, mode: from, name: `${from}-${to}` });
    await call('vm.step', { id: a.id, count: cut });
    const before = consoleText.get(a.id) ?? '';
    const saved = await call<SnapshotEntry>('snapshot.save', { id: a.id });
    expect(saved).toMatchObject({ path: `snapshots/${from}-${to}-1.snap`, mode: from, machine: `${from}-${to}`, kernel, state: 'paused' });
    expect(saved.instret).toBeGreaterThan(cut / 2);
    expect((await call<SnapshotEntry[]>('snapshot.list', {})).find((e) => e.path === saved.path)).toEqual(saved);
    // The original goes on where it was: saving changed nothing.
    const whole = await runToEnd(a.id);
    expect(whole.status.state).toBe('exited');
    // Restored beside the original, whose frames are still taken.
    const b = await call<MachineStatus>('snapshot.restore', { path: saved.path, mode: to });
    expect(b).toMatchObject({ mode: to, name: `${from}-${to}-restored`, state: 'paused', instret: saved.instret, pc: saved.pc });
    const rest = await runToEnd(b.id);
    expect(before + afterNote(rest.text)).toBe(whole.text);
    expect(rest.status).toMatchObject({ state: 'exited', exitCode: whole.status.exitCode, instret: whole.status.instret });
    await destroyAll();
  }, 120_000);

  it('a VM still running is saved between two slices and keeps running', async () => {
    const a = await call<MachineStatus>('vm.create', { kernel: 'traps/traps.S', mode: 'trap', name: 'live' });
    await call('vm.run', { id: a.id });
    const saved = await call<SnapshotEntry>('snapshot.save', { id: a.id, name: 'live-run' });
    expect(saved.path).toBe('snapshots/live-run.snap');
    const whole = await runToEnd(a.id);
    const b = await call<MachineStatus>('snapshot.restore', { path: saved.path, name: 'live-again' });
    expect(b.name).toBe('live-again');
    const rest = await runToEnd(b.id);
    expect(whole.text.endsWith(afterNote(rest.text))).toBe(true);
    expect(rest.status.instret).toBe(whole.status.instret);
    await destroyAll();
  }, 60_000);
});

describe('disks', () => {
  it('a snapshot refuses its image once the image changed, and restores when it is put back', async () => {
    await call('disk.create', { path: 'disk/disk.img', format: 'raw', size: 1 << 20 });
    const a = await call<MachineStatus>('vm.create', { kernel: 'disk/disk.S', mode: 'trap', name: 'dsk', disks: [{ path: 'disk/disk.img' }] });
    await call('vm.step', { id: a.id, count: 500 });
    const saved = await call<SnapshotEntry>('snapshot.save', { id: a.id });
    expect(saved.disks).toEqual(['disk/disk.img']);
    copyFileSync(join(root, 'disk/disk.img'), join(root, 'disk/disk-at-snapshot.img'));
    const whole = await runToEnd(a.id);
    expect(whole.text).toContain('boot 1');
    await call('vm.destroy', { id: a.id });
    const imageAfter = readFileSync(join(root, 'disk/disk.img'));
    const count = (await list()).length;
    // The list says so before any restore is tried: the guest wrote its count, the size stayed.
    const stale = (await call<SnapshotEntry[]>('snapshot.list', {})).find((e) => e.path === saved.path);
    expect(stale?.diskProblems).toEqual([{ path: 'disk/disk.img', problem: expect.stringMatching(/^changed since the snapshot was taken \(same size, but its SHA-256 is [0-9a-f]{12}…, was [0-9a-f]{12}…\)$/), modified: expect.any(String) }]);
    await expect(call('snapshot.restore', { path: saved.path })).rejects.toMatchObject({
      code: 'bad-state',
      message: `snapshot ${saved.path}: disk ${join(root, 'disk/disk.img')} changed since the snapshot was taken (its SHA-256 differs); restore it from the image as it was then`,
    });
    expect((await list()).length).toBe(count);
    copyFileSync(join(root, 'disk/disk-at-snapshot.img'), join(root, 'disk/disk.img'));
    expect((await call<SnapshotEntry[]>('snapshot.list', {})).find((e) => e.path === saved.path)?.diskProblems).toBeUndefined();
    const b = await call<MachineStatus>('snapshot.restore', { path: saved.path });
    const rest = await runToEnd(b.id);
    expect(afterNote(rest.text)).toBe(whole.text.slice(whole.text.length - afterNote(rest.text).length));
    expect(afterNote(rest.text)).toContain('boot 1');
    expect(rest.status.instret).toBe(whole.status.instret);
    await destroyAll();
    expect(readFileSync(join(root, 'disk/disk.img')).equals(imageAfter)).toBe(true);
  }, 60_000);
});

describe('refusals', () => {
  let good: SnapshotEntry;
  beforeAll(async () => {
    const a = await call<MachineStatus>('vm.create', { kernel: 'traps/traps-pv.S', mode: 'pv', name: 'pvm' });
    await call('vm.step', { id: a.id, count: 100 });
    good = await call<SnapshotEntry>('snapshot.save', { id: a.id, name: 'pv-good' });
  });

  it('damaged, truncated, empty and foreign files are listed with their problem and refused, creating nothing', async () => {
    const bytes = readFileSync(join(root, good.path));
    const flipped = Buffer.from(bytes);
    flipped[flipped.length >> 1] ^= 0x40;
    writeFileSync(join(root, 'snapshots/flipped.snap'), flipped);
    writeFileSync(join(root, 'snapshots/truncated.snap'), bytes.subarray(0, 40));
    writeFileSync(join(root, 'snapshots/short.snap'), bytes.subarray(0, bytes.length - 100));
    writeFileSync(join(root, 'snapshots/empty.snap'), '');
    writeFileSync(join(root, 'snapshots/foreign.snap'), 'hello, not a snapshot at all');
    const version = Buffer.from(bytes);
    version.writeUInt32LE(2, 8);
    writeFileSync(join(root, 'snapshots/version.snap'), version);
    const problems: Record<string, string> = {
      flipped: 'checksum mismatch: the file is damaged or truncated',
      truncated: `truncated: 40 bytes, the header alone needs ${16 + bytes.readUInt32LE(12) + 32}`,
      short: 'checksum mismatch: the file is damaged or truncated',
      empty: 'not a vmlab snapshot (no VMLABSNP signature)',
      foreign: 'not a vmlab snapshot (no VMLABSNP signature)',
      version: 'snapshot format version 2; this vmlab reads version 1',
    };
    const listed = await call<SnapshotEntry[]>('snapshot.list', {});
    const count = (await list()).length;
    for (const [name, why] of Object.entries(problems)) {
      const path = `snapshots/${name}.snap`;
      expect(listed.find((e) => e.path === path)).toEqual({ path, problem: `snapshot ${path}: ${why}` });
      await expect(call('snapshot.restore', { path })).rejects.toMatchObject({ code: 'bad-request', message: `snapshot ${path}: ${why}` });
    }
    expect((await list()).length).toBe(count);
  });

  it('a file whose envelope checks out but whose header lacks its summary, date or disk paths is listed with its problem and refused; the others stay listed', async () => {
    const bytes = readFileSync(join(root, good.path));
    const headerEnd = 16 + bytes.readUInt32LE(12);
    const header = JSON.parse(bytes.toString('utf8', 16, headerEnd)) as Record<string, unknown>;
    const body = bytes.subarray(headerEnd, bytes.length - 32);
    const kind = { magic: 'VMLABSNP', version: 1, noun: 'snapshot' };
    const { summary, ...noSummary } = header;
    const variants: Record<string, [Record<string, unknown>, string]> = {
      nosummary: [noSummary, 'the header has no summary of the run'],
      badsummary: [{ ...header, summary: { ...(summary as object), instret: 'many' } }, 'the header has no summary of the run'],
      nodate: [{ ...header, created: 1 }, 'the header has no date'],
      diskpath: [{ ...header, disks: [{ slot: 0 }] }, 'the header\'s disk 0 has no path'],
    };
    for (const [name, [h]] of Object.entries(variants)) writeFileSync(join(root, `snapshots/${name}.snap`), Buffer.concat(encodeEnvelope(kind, h, [body])));
    const count = (await list()).length;
    const listed = await call<SnapshotEntry[]>('snapshot.list', {});
    expect(listed.find((e) => e.path === good.path)).toMatchObject({ path: good.path, mode: 'pv', instret: good.instret });
    for (const [name, [, why]] of Object.entries(variants)) {
      const path = `snapshots/${name}.snap`;
      expect(listed.find((e) => e.path === path)).toEqual({ path, problem: `snapshot ${path}: ${why}` });
      await expect(call('snapshot.restore', { path })).rejects.toMatchObject({ code: 'bad-request', message: `snapshot ${path}: ${why}` });
    }
    expect((await list()).length).toBe(count);
  });

  it('a pv snapshot continues only in pv; bad names, paths and ids are refused', async () => {
    await expect(call('snapshot.restore', { path: good.path, mode: 'trap' })).rejects.toMatchObject({
      code: 'bad-request', message: `snapshot ${good.path}: it was taken in pv mode and holds a pv kernel, which runs only in pv mode; it cannot continue in trap`,
    });
    await expect(call('snapshot.restore', { path: 'snapshots/none.snap' })).rejects.toMatchObject({ code: 'bad-request', message: 'snapshot snapshots/none.snap: no such file' });
    await expect(call('snapshot.restore', { path: 'traps/traps.S' })).rejects.toMatchObject({ code: 'bad-request', message: expect.stringMatching(/ends in \.snap/) });
    await expect(call('snapshot.restore', { path: '../x.snap' })).rejects.toMatchObject({ code: 'outside-workspace' });
    await expect(call('snapshot.save', { id: 'm999' })).rejects.toMatchObject({ code: 'not-found' });
    const [pvm] = await list();
    await expect(call('snapshot.save', { id: pvm.id, name: '../escape' })).rejects.toMatchObject({ code: 'bad-request', message: expect.stringMatching(/^snapshot\.save: name:/) });
    await expect(call('snapshot.save', { id: pvm.id, name: 'x', extra: 1 })).rejects.toMatchObject({ code: 'bad-request' });
    const b = await call<MachineStatus>('snapshot.restore', { path: good.path });
    expect(b).toMatchObject({ mode: 'pv', name: 'pvm-restored', state: 'paused', instret: good.instret });
  });
});
