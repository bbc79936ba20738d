// The H extension against QEMU 7.2 (-cpu rv32,h=true): the hypervisor guests of test/guests/hyp (a tiny
// hypervisor in HS-mode running a guest in VS/VU) must print what they print on QEMU: every trap's
// cause, epc, tval, htval and hstatus bits, the CSR values, the data read through both translation
// stages. Run with the block translator and without it. Without the `h` feature the H instructions and
// CSRs are illegal, as on QEMU with h=false.
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Hart } from '../../src/engine/cpu/hart';
import { execute } from '../../src/engine/cpu/interp';
import { Bus } from '../../src/engine/machine/bus';
import { Machine, StopReason } from '../../src/engine/machine/machine';
import { GUEST_DIR, buildAsm, listGuests } from '../support/build';
import { QEMU_CPU, runQemu } from '../support/qemu';

const HYP_DIR = join(GUEST_DIR, 'hyp');
const PROGRAMS = listGuests(HYP_DIR, '.S');
/** The corpus CPU with H on. */
const QEMU_CPU_H = QEMU_CPU.replace('h=false', 'h=true');

const elves = new Map<string, string>();
const qemu = new Map<string, { output: string; exitCode: number | null }>();

function runVmlabH(elf: string, jit: boolean): { output: string; exitCode: number | null } {
  const out: number[] = [];
  const m = new Machine({ ramSize: 128 << 20, cpu: { pmp: true, c: true, a: true, m: true, h: true, xsensitive: false, jit }, onUart: (b) => out.push(b) });
  m.loadKernel(new Uint8Array(readFileSync(elf)));
  let r = StopReason.BUDGET;
  for (let i = 0; i < 50 && r === StopReason.BUDGET; i++) r = m.run(1_000_000);
  return { output: Buffer.from(out).toString('latin1'), exitCode: r === StopReason.EXIT ? (m.exitCode ?? null) : null };
}

beforeAll(async () => {
  expect(QEMU_CPU_H).toContain('h=true');
  for (const p of PROGRAMS) {
    const elf = await buildAsm(p);
    elves.set(p, elf);
    const q = await runQemu(elf, { cpu: QEMU_CPU_H });
    expect(q.timedOut, q.stderr).toBe(false);
    qemu.set(p, { output: q.output.toString('latin1'), exitCode: q.exitCode });
  }
}, 180_000);

describe('H extension guests against QEMU', () => {
  it('has guests, and QEMU runs them to a clean exit with guest traps in the output', () => {
    expect(PROGRAMS.length).toBeGreaterThan(0);
    for (const p of PROGRAMS) {
      const q = qemu.get(p)!;
      expect(q.exitCode, basename(p)).toBe(0);
      expect(q.output, basename(p)).toMatch(/HS cause=00000015/);
    }
  });

  it.each(PROGRAMS.map((p) => [basename(p), p]))('%s: the same output as QEMU, translator on', (_n, p) => {
    expect(runVmlabH(elves.get(p)!, true)).toEqual(qemu.get(p));
  });

  it.each(PROGRAMS.map((p) => [basename(p), p]))('%s: the same output as QEMU, interpreter only', (_n, p) => {
    expect(runVmlabH(elves.get(p)!, false)).toEqual(qemu.get(p));
  });
});

describe('without the h feature', () => {
  /** Runs one instruction word in S-mode on a hart without H; returns mcause and mtval. */
  function trapOf(word: number, h: boolean): [number, number] {
    const bus = new Bus(0x80000000, 1 << 16);
    const hart = new Hart(bus, { h, pmp: false, jit: false });
    bus.ram32[0] = word;
    hart.reset(0x80000000);
    hart.priv = 1;
    hart.contextChanged();
    execute(hart, 1);
    return [hart.mcause, hart.mtval];
  }

  it.each([
    ['csrr a0, hstatus', 0x60002573], ['csrr a0, vsatp', 0x28002573], ['csrr a0, hgatp', 0x68002573],
    ['hlv.w a0, (a1)', 0x6805c573], ['hsv.w a0, (a1)', 0x6aa5c073], ['hfence.gvma', 0x62000073], ['hfence.vvma', 0x22000073],
  ])('%s is an illegal instruction, and legal with h', (_name, word) => {
    expect(trapOf(word, false)).toEqual([2, word]);
    expect(trapOf(word, true)[0]).not.toBe(2);
  });

  it('misa has H only with the feature', () => {
    const bus = new Bus(0x80000000, 1 << 16);
    expect((new Hart(bus, { h: false }).misa >>> 7) & 1).toBe(0);
    expect((new Hart(bus, { h: true }).misa >>> 7) & 1).toBe(1);
  });
});
