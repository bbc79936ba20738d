// A virtio-blk driver that never writes InterruptACK (test/guests/disk/virtio-noack.S) on QEMU 7.2 and
// on vmlab bare, in emulate and in trap mode: one external interrupt per request, no storm, the same
// UART output and exit code. It holds vmlab's PLIC to QEMU's gateway (pend when the device raises
// its line, no re-pend at completion), which xv6's older disk driver depends on.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawDisk } from '../../src/engine/disk/raw';
import { MemoryByteStore } from '../../src/engine/disk/types';
import { Machine, StopReason } from '../../src/engine/machine/machine';
import type { VmMode } from '../../src/engine/vmm/vm';
import { Vmm } from '../../src/engine/vmm/vmm';
import { GUEST_DIR, buildAsm } from '../support/build';
import { runQemu } from '../support/qemu';

const work = mkdtempSync(join(tmpdir(), 'vmlab-noack-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
let kernel: Uint8Array;
let elf: string;
const image = join(work, 'disk.img');

/** Eight sectors; sector n starts with the word 0x5ec70000 + n. */
function makeImage(): Uint8Array {
  const b = new Uint8Array(8 * 512);
  const v = new DataView(b.buffer);
  for (let n = 0; n < 8; n++) v.setUint32(n * 512, 0x5ec7_0000 + n, true);
  return b;
}

interface Run {
  output: string;
  exitCode: number | null;
}

function runVmlab(mode: 'bare' | VmMode): Run {
  const disks = [{ device: new RawDisk(new MemoryByteStore(makeImage())) }];
  const out: number[] = [];
  if (mode === 'bare') {
    const m = new Machine({ ramSize: 128 << 20, disks, onUart: (b) => out.push(b) });
    m.loadKernel(kernel);
    let reason = StopReason.BUDGET;
    for (let i = 0; i < 50 && reason === StopReason.BUDGET; i++) reason = m.run(2_000_000);
    return { output: Buffer.from(out).toString('latin1'), exitCode: reason === StopReason.EXIT ? (m.exitCode ?? null) : null };
  }
  const vmm = new Vmm({ hostRamSize: 64 << 20 });
  const vm = vmm.createVm({ name: 'noack', mode, kernel, memSize: 16 << 20, disks, onUart: (b) => out.push(b) });
  for (let i = 0; i < 50 && vmm.active; i++) vmm.run(2_000_000);
  return { output: Buffer.from(out).toString('latin1'), exitCode: vm.state === 'halted' ? (vm.exitCode ?? null) : null };
}

describe('virtio driver without InterruptACK', () => {
  let qemu: Run;

  beforeAll(async () => {
    elf = await buildAsm(join(GUEST_DIR, 'disk', 'virtio-noack.S'));
    kernel = new Uint8Array(readFileSync(elf));
    writeFileSync(image, makeImage());
    const q = await runQemu(elf, {
      timeoutMs: 30_000,
      extraArgs: ['-drive', `file=${image},if=none,format=raw,id=d`, '-device', 'virtio-blk-device,drive=d'],
    });
    expect(q.timedOut, q.stderr).toBe(false);
    qemu = { output: q.output.toString('latin1'), exitCode: q.exitCode };
  }, 120_000);

  it('gets one interrupt per request on QEMU 7.2', () => {
    expect(qemu.exitCode).toBe(0);
    const counts = [...qemu.output.matchAll(/interrupts=([0-9a-f]{8})/g)].map((m) => parseInt(m[1], 16));
    expect(counts).toEqual([1, 2, 3, 4]);
    expect(qemu.output).toContain('word=5ec70003');
    expect(qemu.output).toContain('interrupt status=00000001');
  });

  it.each(['bare', 'emulate', 'trap'] as const)('behaves as QEMU on vmlab, %s', (mode) => {
    expect(runVmlab(mode)).toEqual(qemu);
  });
});
