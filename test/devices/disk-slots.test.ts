// Disk slots: `--disk ...,slot=N` / `bus=virtio-mmio-bus.N` and QEMU's default order, compared with
// qemu-system-riscv32 7.2 by a guest that lists what each virtio-mmio slot holds
// (test/guests/disk/virtio-slots.S); the parser's spellings and errors; a clash refused as QEMU does.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDiskSpec } from '../../src/cli/disk-option';
import { RawDisk } from '../../src/engine/disk/raw';
import { MemoryByteStore } from '../../src/engine/disk/types';
import { assignDiskSlots } from '../../src/engine/machine/disk-slots';
import { Machine, StopReason } from '../../src/engine/machine/machine';
import { GUEST_DIR, REPO_ROOT, buildAsm } from '../support/build';
import { runQemu } from '../support/qemu';

const work = mkdtempSync(join(tmpdir(), 'vmlab-slots-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
let elf: string;

/** Disk i has 8 * (i + 1) sectors, so the listing shows which disk is where. */
const sizeOf = (i: number): number => 8 * (i + 1) * 512;

beforeAll(async () => {
  elf = await buildAsm(join(GUEST_DIR, 'disk', 'virtio-slots.S'));
  for (let i = 0; i < 8; i++) writeFileSync(join(work, `d${i}.img`), new Uint8Array(sizeOf(i)));
}, 120_000);

async function qemuListing(slots: (number | undefined)[]): Promise<{ output: string; exitCode: number | null; stderr: string }> {
  const args = slots.flatMap((slot, i) => [
    '-drive', `file=${join(work, `d${i}.img`)},if=none,format=raw,id=d${i}`,
    '-device', `virtio-blk-device,drive=d${i}${slot === undefined ? '' : `,bus=virtio-mmio-bus.${slot}`}`,
  ]);
  const q = await runQemu(elf, { timeoutMs: 30_000, extraArgs: args });
  expect(q.timedOut, q.stderr).toBe(false);
  return { output: q.output.toString('latin1'), exitCode: q.exitCode, stderr: q.stderr };
}

function vmlabListing(slots: (number | undefined)[]): { output: string; exitCode: number | null } {
  const disks = slots.map((slot, i) => ({ device: new RawDisk(new MemoryByteStore(new Uint8Array(sizeOf(i)))), slot }));
  const out: number[] = [];
  const m = new Machine({ ramSize: 128 << 20, disks, onUart: (b) => out.push(b) });
  m.loadKernel(new Uint8Array(readFileSync(elf)));
  expect(m.run(10_000_000)).toBe(StopReason.EXIT);
  return { output: Buffer.from(out).toString('latin1'), exitCode: m.exitCode ?? null };
}

describe('virtio-mmio slots against QEMU 7.2', () => {
  const cases: [string, (number | undefined)[]][] = [
    ['one disk, default slot', [undefined]],
    ['three disks, default order', [undefined, undefined, undefined]],
    ['a disk in slot 0 (xv6)', [0]],
    ['explicit and default mixed', [6, undefined, 0, undefined]],
    ['eight disks, all explicit', [3, 1, 4, 0, 5, 2, 6, 7]],
  ];
  it.each(cases)('%s', async (_name, slots) => {
    const q = await qemuListing(slots);
    expect(q.exitCode, q.stderr).toBe(0);
    expect(vmlabListing(slots)).toEqual({ output: q.output, exitCode: 0 });
  });

  it('refuses a slot an earlier disk took, as QEMU does', async () => {
    const q = await qemuListing([undefined, 7]);
    expect(q.exitCode).toBe(1);
    expect(q.stderr).toContain('virtio-mmio-bus.7');
    expect(() => assignDiskSlots([{}, { slot: 7 }])).toThrow('disk 1: virtio-mmio slot 7 is taken by an earlier disk');
    expect(() => assignDiskSlots([{ slot: 2 }, { slot: 2 }])).toThrow('disk 1: virtio-mmio slot 2 is taken by an earlier disk');
  });
});

describe('--disk slot spellings', () => {
  it('takes slot=N and QEMU\'s bus=virtio-mmio-bus.N', () => {
    expect(parseDiskSpec('a.img,slot=0').slot).toBe(0);
    expect(parseDiskSpec('a.img,bus=virtio-mmio-bus.5,readonly')).toMatchObject({ path: 'a.img', slot: 5, readOnly: true });
    expect(parseDiskSpec('a.img').slot).toBeUndefined();
  });

  it.each([
    ['a.img,slot=8', "disk option slot takes a slot 0..7, got '8'"],
    ['a.img,slot=-1', "disk option slot takes a slot 0..7, got '-1'"],
    ['a.img,slot=x', "disk option slot takes a slot 0..7, got 'x'"],
    ['a.img,slot', "disk option slot takes a slot 0..7, got 'on'"],
    ['a.img,bus=virtio-mmio-bus.9', "disk option bus takes virtio-mmio-bus.0 .. virtio-mmio-bus.7, got 'virtio-mmio-bus.9'"],
    ['a.img,bus=pci.0', "disk option bus takes virtio-mmio-bus.0 .. virtio-mmio-bus.7, got 'pci.0'"],
  ])('refuses %s', (text, message) => {
    expect(() => parseDiskSpec(text)).toThrow(message);
  });
});

describe('slots from the command line and VM files', () => {
  const VMLAB = join(REPO_ROOT, 'bin', 'vmlab.mjs');
  const vmlab = (args: string[]): { code: number | null; stdout: string; stderr: string } => {
    const r = spawnSync(process.execPath, [VMLAB, ...args], { encoding: 'latin1', timeout: 120_000 });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  it('vmlab run --disk ...,bus=virtio-mmio-bus.0 and slot=3 list as on QEMU, in every mode', async () => {
    const q = await qemuListing([0, 3]);
    for (const mode of ['bare', 'emulate', 'trap']) {
      const r = vmlab(['run', elf, '--mode', mode, '--disk', `${join(work, 'd0.img')},bus=virtio-mmio-bus.0`, '--disk', `${join(work, 'd1.img')},slot=3`]);
      expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({ code: 0, stdout: q.output, stderr: '' });
    }
  }, 120_000);

  it('a *.vm.json disk object takes "slot"', async () => {
    const q = await qemuListing([undefined, 0]);
    copyFileSync(elf, join(work, 'slots.elf'));
    const file = join(work, 'slots.vm.json');
    writeFileSync(file, JSON.stringify({ name: 'slots', kernel: 'slots.elf', mode: 'trap', disks: ['d0.img', { file: 'd1.img', slot: 0 }] }));
    const r = vmlab(['vms', file]);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.split('\n').filter((l) => l.startsWith('[slots] ')).map((l) => l.slice('[slots] '.length));
    expect(lines.join('\n')).toBe(q.output.trimEnd());
  }, 120_000);

  it('a clash is a one-line error with exit code 2', () => {
    const r = vmlab(['run', elf, '--disk', `${join(work, 'd0.img')},slot=7`, '--disk', `${join(work, 'd1.img')},bus=virtio-mmio-bus.7`]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('disk 1: virtio-mmio slot 7 is taken by an earlier disk');
    const bad = vmlab(['run', elf, '--disk', `${join(work, 'd0.img')},slot=9`]);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toContain("disk option slot takes a slot 0..7, got '9'");
  });
});
