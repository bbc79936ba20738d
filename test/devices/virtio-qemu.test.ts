// The C virtio-blk driver (test/guests/c/virtio-blk.c) with the same disk image on
// qemu-system-riscv32 and on vmlab, legacy and modern transport: the same UART output and exit code,
// and afterwards the same bytes in both host files. In emulate and trap mode it prints what it prints
// bare and leaves the same image.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawDisk } from '../../src/engine/disk/raw';
import { MemoryByteStore } from '../../src/engine/disk/types';
import { Machine, StopReason } from '../../src/engine/machine/machine';
import type { VmMode } from '../../src/engine/vmm/vm';
import { Vmm } from '../../src/engine/vmm/vmm';
import { C_DIR, buildC } from '../support/build';
import { runQemu } from '../support/qemu';

const SERIAL = 'vmlab-test-disk';
const work = mkdtempSync(join(tmpdir(), 'vmlab-virtio-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
let elf: string;
let kernel: Uint8Array;

beforeAll(async () => {
  elf = await buildC(join(C_DIR, 'virtio-blk.c'));
  kernel = new Uint8Array(readFileSync(elf));
}, 300_000);

/** A 96 KiB image with a pattern; bytes 510..511 are not the MBR signature (QEMU would guess CHS from it). */
function makeImage(path: string): void {
  const b = new Uint8Array(96 * 1024);
  for (let i = 0; i < b.length; i++) b[i] = (i * 31 + (i >>> 9) * 7 + 3) & 0xff;
  b[510] = 0;
  writeFileSync(path, b);
}

interface Run {
  output: string;
  exitCode: number | null;
}

/** Boots the guest with `path` as its disk (read into memory, written back afterwards: the host file round trip). */
function runVmlab(path: string, legacy: boolean, mode: 'bare' | VmMode): Run {
  const store = new MemoryByteStore(new Uint8Array(readFileSync(path)));
  const disks = [{ device: new RawDisk(store), legacy, serial: SERIAL }];
  const out: number[] = [];
  let exitCode: number | null = null;
  if (mode === 'bare') {
    const m = new Machine({ ramSize: 128 << 20, disks, onUart: (b) => out.push(b) });
    m.loadKernel(kernel);
    let reason = StopReason.BUDGET;
    for (let i = 0; i < 100 && reason === StopReason.BUDGET; i++) reason = m.run(2_000_000);
    expect(reason).toBe(StopReason.EXIT);
    exitCode = m.exitCode ?? null;
    expect(m.flushDisks()).toBeUndefined();
  } else {
    const vmm = new Vmm({ hostRamSize: 64 << 20 });
    const vm = vmm.createVm({ name: 'disk', mode, kernel, memSize: 16 << 20, disks, onUart: (b) => out.push(b) });
    for (let i = 0; i < 100 && vmm.active; i++) vmm.run(2_000_000);
    expect(vm.state).toBe('halted');
    exitCode = vm.exitCode ?? null;
    expect(vm.stats.deviceAccesses).toBeGreaterThan(100);
  }
  writeFileSync(path, store.contents());
  return { output: Buffer.from(out).toString('latin1'), exitCode };
}

describe.each([true, false])('virtio-blk guest, force-legacy=%s', (legacy) => {
  let qemu: Run;
  let qemuImage: Uint8Array;
  let original: Uint8Array;

  beforeAll(async () => {
    const img = join(work, `qemu-${legacy}.img`);
    makeImage(img);
    original = new Uint8Array(readFileSync(img));
    const q = await runQemu(elf, {
      timeoutMs: 30_000,
      extraArgs: ['-global', `virtio-mmio.force-legacy=${legacy}`, '-drive', `file=${img},if=none,format=raw,id=d`, '-device', `virtio-blk-device,drive=d,serial=${SERIAL}`],
    });
    expect(q.timedOut, q.stderr).toBe(false);
    qemu = { output: q.output.toString('latin1'), exitCode: q.exitCode };
    qemuImage = new Uint8Array(readFileSync(img));
  }, 60_000);

  it('QEMU runs the whole script and changes the image', () => {
    expect(qemu.exitCode).toBe(0);
    expect(qemu.output).toContain(`${legacy ? 'legacy' : 'modern'} transport`);
    expect(qemu.output).toContain('same, fnv');
    expect(Buffer.compare(Buffer.from(qemuImage), Buffer.from(original))).not.toBe(0);
  });

  it.each(['bare', 'emulate', 'trap'] as const)('%s: same output, exit code and image as QEMU', (mode) => {
    const img = join(work, `vmlab-${legacy}-${mode}.img`);
    makeImage(img);
    expect(runVmlab(img, legacy, mode)).toEqual(qemu);
    expect(Buffer.compare(readFileSync(img), Buffer.from(qemuImage))).toBe(0);
  });

  it('a second boot on the same image counts on', () => {
    const img = join(work, `vmlab-${legacy}-twice.img`);
    makeImage(img);
    const counter = (r: Run): number => Number(/write the counter (\d+)/.exec(r.output)![1]);
    const first = counter(runVmlab(img, legacy, 'bare'));
    expect(counter(runVmlab(img, legacy, 'bare'))).toBe(first + 1);
  });
});
