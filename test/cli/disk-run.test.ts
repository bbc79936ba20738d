// `vmlab run --disk` and the `disks` field of `vmlab vms`: the C virtio-blk guest on a host file prints
// what it prints on QEMU with the same image and leaves the same bytes; readonly disks stay as they
// were; an image another writer holds is refused with a clear message and exit code 2.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { openDisk } from '../../src/host/disk-files';
import { C_DIR, REPO_ROOT, buildC } from '../support/build';
import { runQemu } from '../support/qemu';
import { requireTool } from '../support/tools';

const VMLAB = join(REPO_ROOT, 'bin', 'vmlab.mjs');
const dir = mkdtempSync(join(tmpdir(), 'vmlab-cli-disk-'));
let guest = '';

function vmlab(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [VMLAB, ...args], { encoding: 'latin1', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function image(name: string): string {
  const path = join(dir, name);
  const b = new Uint8Array(64 * 1024);
  for (let i = 0; i < b.length; i++) b[i] = (i * 17 + (i >>> 9)) & 0xff;
  b[510] = 0;
  writeFileSync(path, b);
  return path;
}

beforeAll(async () => {
  guest = await buildC(join(C_DIR, 'virtio-blk.c'));
}, 300_000);

describe('vmlab run --disk', () => {
  it.each([['on', 'true'], ['off', 'false']])('legacy=%s: same console and image as QEMU, in every mode', async (legacy, qemuLegacy) => {
    const qimg = image(`q-${legacy}.img`);
    const q = await runQemu(guest, { extraArgs: ['-global', `virtio-mmio.force-legacy=${qemuLegacy}`, '-drive', `file=${qimg},if=none,format=raw,id=d`, '-device', 'virtio-blk-device,drive=d,serial=cli'] });
    expect(q.exitCode).toBe(0);
    for (const mode of ['bare', 'emulate', 'trap']) {
      const img = image(`v-${legacy}-${mode}.img`);
      const r = vmlab(['run', guest, '--mode', mode, '--disk', `${img},format=raw,legacy=${legacy},serial=cli`]);
      expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({ code: 0, stdout: q.output.toString('latin1'), stderr: '' });
      expect(Buffer.compare(readFileSync(img), readFileSync(qimg))).toBe(0);
    }
  }, 120_000);

  it('qcow2: the same console as QEMU on the same image, equal contents afterwards, and qemu-img check passes', async () => {
    const qemuImg = requireTool('qemu-img', 'qemu-utils');
    const raw = image('seed.img');
    const q2 = join(dir, 'q.qcow2');
    const v2 = join(dir, 'v.qcow2');
    for (const f of [q2, v2]) execFileSync(qemuImg, ['convert', '-f', 'raw', '-O', 'qcow2', raw, f]);
    const q = await runQemu(guest, { extraArgs: ['-drive', `file=${q2},if=none,format=qcow2,id=d`, '-device', 'virtio-blk-device,drive=d'] });
    const r = vmlab(['run', guest, '--mode', 'trap', '--disk', `${v2},format=qcow2`]);
    expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 0, stdout: q.output.toString('latin1') });
    execFileSync(qemuImg, ['check', v2]);
    execFileSync(qemuImg, ['compare', '-f', 'qcow2', '-F', 'qcow2', q2, v2]);
  }, 60_000);

  it('readonly: writes fail with IOERR and the file keeps its bytes; statistics count the requests', () => {
    const img = image('ro.img');
    const before = readFileSync(img);
    const r = vmlab(['run', guest, '--disk', `${img},readonly`, '--stats', 'json']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/write sectors 4-5\n {2}status 1,/);
    expect(Buffer.compare(readFileSync(img), before)).toBe(0);
    const stats = JSON.parse(r.stderr.trim().split('\n').pop()!);
    expect(stats.disks[0]).toMatchObject({ writes: 2, ioErrors: 4, getIds: 1, flushes: 1 });
  });

  it('refuses an image another writer holds: a clear message and exit code 2', () => {
    const img = image('locked.img');
    const held = openDisk(img);
    try {
      const r = vmlab(['run', guest, '--disk', img]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^vmlab: disk .*locked\.img is locked: .*already open for writing/);
      expect(r.stdout).toBe('');
    } finally {
      held.close();
    }
  });

  it('SIGINT ends a run through the normal path: the image is flushed and unlocked, exit code 130', async () => {
    const img = image('signal.img');
    const spin = join(dir, 'spin.S');
    writeFileSync(spin, '.globl _start\n_start:\n  j _start\n');
    const child = spawn(process.execPath, [VMLAB, 'run', spin, '--disk', img], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => { stderr += b.toString(); });
    for (let i = 0; i < 200 && !existsSync(`${img}.lock`); i++) await new Promise((r) => setTimeout(r, 50));
    expect(existsSync(`${img}.lock`)).toBe(true);
    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).toBe(130);
    expect(stderr).toMatch(/^vmlab: stopped by SIGINT after [\d,]+ instructions; disks flushed and closed$/m);
    expect(existsSync(`${img}.lock`)).toBe(false);
  }, 30_000);

  it('rejects unknown disk options with exit code 2', () => {
    const r = vmlab(['run', guest, '--disk', `${image('x.img')},cache=none`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown disk option 'cache'");
  });
});

describe('vmlab vms with disks', () => {
  it('gives each VM its own image, relative to the *.vm.json file', () => {
    const a = image('a.img');
    image('b.img');
    writeFileSync(join(dir, 'a.vm.json'), JSON.stringify({ name: 'a', kernel: guest, mode: 'trap', disks: ['a.img'] }));
    writeFileSync(join(dir, 'b.vm.json'), JSON.stringify({ name: 'b', kernel: guest, mode: 'emulate', disks: [{ file: 'b.img', legacy: false, serial: 'bee' }] }));
    const r = vmlab(['vms', join(dir, 'a.vm.json'), join(dir, 'b.vm.json'), '--stats', 'json']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('[a] disk in slot 7, legacy transport');
    expect(r.stdout).toContain('[b] disk in slot 7, modern transport');
    expect(r.stdout).toContain('[b]   id: 62 65 65 00');
    const solo = image('solo.img');
    vmlab(['run', guest, '--disk', solo]);
    expect(Buffer.compare(readFileSync(a), readFileSync(solo))).toBe(0);
    const rows = JSON.parse(r.stderr.trim().split('\n').pop()!);
    expect(rows.map((row: { disks: { reads: number }[] }) => row.disks[0].reads)).toEqual([6, 6]);
  }, 60_000);
});
