// Debugger hooks: breakpoints, side-effect-free memory and translation inspection.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Machine, StopReason } from '../../src/engine/machine/machine';
import { readCsrs, readPhysical, translateDebug, writePhysical } from '../../src/engine/machine/inspect';
import { Access } from '../../src/engine/mmu/walk';
import { ASM_DIR, buildGuest, disassembly } from '../support/build';

let hello = '';
let sv32 = '';
let helloDis = new Map<number, string>();

beforeAll(async () => {
  hello = await buildGuest(join(ASM_DIR, 'hello.S'));
  sv32 = await buildGuest(join(ASM_DIR, 'sv32-4k.S'));
  helloDis = await disassembly(hello);
}, 300_000);

function boot(elf: string): { m: Machine; out: number[] } {
  const out: number[] = [];
  const m = new Machine({ onUart: (b) => out.push(b) });
  m.loadKernel(new Uint8Array(readFileSync(elf)));
  return { m, out };
}

describe('breakpoints', () => {
  it('stops in front of each breakpoint and resumes past it, with the same output as a plain run', () => {
    const plain = boot(hello);
    plain.m.run(10_000_000);
    const addrs = [...helloDis.keys()].sort((a, b) => a - b).slice(3, 9);
    const { m, out } = boot(hello);
    for (const a of addrs) m.hart.breakpoints.add(a);
    const hits: number[] = [];
    let reason = m.run(10_000_000);
    while (reason === StopReason.BREAKPOINT) {
      hits.push(m.hart.pcU);
      reason = m.run(10_000_000);
    }
    expect(reason).toBe(StopReason.EXIT);
    expect(hits).toEqual(addrs.filter((a) => hits.includes(a)));
    expect(hits.length).toBeGreaterThanOrEqual(addrs.length);
    expect(out).toEqual(plain.out);
    expect(m.hart.instret).toBe(plain.m.hart.instret);
  });

  it('step() executes exactly one instruction', () => {
    const { m } = boot(hello);
    const before = m.hart.instret;
    m.step();
    expect(m.hart.instret).toBe(before + 1);
    expect(m.hart.pcU).toBe(0x1004);
  });
});

describe('inspection without side effects', () => {
  it('reads CSRs by name', () => {
    const { m } = boot(hello);
    m.run(10_000_000);
    const csrs = new Map(readCsrs(m.hart).map((c) => [c.name, c.value]));
    expect(csrs.get('mhartid')).toBe(0);
    expect(csrs.get('misa')! >>> 30).toBe(1);
    expect(csrs.has('pmpaddr15')).toBe(true);
  });

  it('reads and edits physical memory; device addresses read as invalid', () => {
    const { m } = boot(hello);
    const r = readPhysical(m.bus, 0x7ffffffe, 4);
    expect([...r.valid]).toEqual([0, 0, 1, 1]);
    expect(writePhysical(m.hart, 0x80100000, new Uint8Array([1, 2, 3]))).toBe(3);
    expect([...readPhysical(m.bus, 0x80100000, 3).bytes]).toEqual([1, 2, 3]);
  });

  it('translates like the MMU and reports each PTE read, without touching A/D bits', () => {
    const { m } = boot(sv32);
    // Run until the guest has paging on and sits in S-mode.
    for (let i = 0; i < 200_000 && !(m.hart.satp >>> 31 && m.hart.priv === 1); i++) m.step();
    expect(m.hart.satp >>> 31).toBe(1);
    const ramBefore = Uint8Array.from(m.bus.ram);
    const t = translateDebug(m.hart, m.hart.pcU, Access.FETCH);
    expect(t.paged).toBe(true);
    expect(t.fault).toBe(0);
    expect(t.steps.length).toBeGreaterThanOrEqual(1);
    // The fetch the hart is about to do lands where the debug translation says.
    const word = readPhysical(m.bus, t.pa!, 2).bytes;
    const direct = m.hart.fetchSlow(m.hart.pc);
    expect(direct & 0xffff).toBe(word[0] | (word[1] << 8));
    expect(Buffer.compare(Buffer.from(ramBefore), Buffer.from(m.bus.ram))).toBe(0);
    const bad = translateDebug(m.hart, 0xfffff000, Access.LOAD);
    expect(bad.pa).toBeUndefined();
    expect(bad.fault).toBe(13);
  });
});
