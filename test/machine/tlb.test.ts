// The TLB inspector's data: hit and miss counters equal hand-counted values with and without the
// block translator, entries decode to the pages the program touched, and flushes are remembered;
// toggling sstatus.SUM and MXR flushes nothing (the bits are part of the entries' context).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assemble } from '../../src/engine/asm/index';
import { Machine, StopReason } from '../../src/engine/machine/machine';
import { ASM_DIR, buildAsm } from '../support/build';

const ITERATIONS = 1000;
/** M-mode, paging off: one lw and one sw per iteration on the same data page, then two sfences. */
const PROGRAM = `
  .equ FINISHER, 0x100000
  .globl _start
_start:
  la    s0, data
  li    s1, ${ITERATIONS}
loop:
  lw    t0, 0(s0)
  addi  t0, t0, 1
  sw    t0, 4(s0)
  addi  s1, s1, -1
  bnez  s1, loop
  sfence.vma
  li    a0, 0x12345000
  li    a1, 7
  sfence.vma a0, a1
  li    t0, FINISHER
  li    t1, 0x5555
  sw    t1, 0(t0)
1: j 1b
  .data
  .balign 4096
data: .word 41, 0
`;

/** Runs `source` to its end on a machine with or without the translator. */
function run(jit: boolean, source = PROGRAM, file = 'tlb.S'): Machine {
  const r = assemble(source, { file });
  if (!r.elf) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  const m = new Machine({ cpu: { jit } });
  m.loadKernel(r.elf);
  expect(m.run(1_000_000)).toBe(StopReason.EXIT);
  return m;
}

describe('TLB counters and inspection', () => {
  // The TLB holds 4,096 pages (16 MiB of virtual space, direct-mapped): pages 4 MiB apart, which
  // evicted each other with 1,024 slots (Linux's boots: 19.5 k page walks), keep an entry each.
  for (const jit of [false, true]) {
    it(`keeps pages 4 MiB apart side by side (${jit ? 'translator' : 'interpreter'})`, () => {
      const m = run(jit, `
  .equ FINISHER, 0x100000
  .globl _start
_start:
  li    s0, 0x80400000
  li    s2, 0x00400000
  li    s1, ${ITERATIONS}
loop:
  lw    t0, 0(s0)
  add   t2, s0, s2
  lw    t1, 0(t2)
  add   t2, t2, s2
  sw    t1, 0(t2)
  add   t2, t2, s2
  sw    t0, 0(t2)
  addi  s1, s1, -1
  bnez  s1, loop
  li    t0, FINISHER
  li    t1, 0x5555
  sw    t1, 0(t0)
1: j 1b
`, 'tlb-4m.S');
      // Four pages: each one's first access fills its entry by the slow path, every other one hits.
      expect(m.hart.tlb.hits).toBe(4 * ITERATIONS - 4);
      expect(m.hart.tlb.entries().filter((e) => e.vpn >= 0x80400 && (e.vpn & 0x3ff) === 0).length).toBe(4);
    });
  }

  for (const jit of [false, true]) {
    it(`counts every load and store the TLB served (${jit ? 'translator' : 'interpreter'})`, () => {
      const m = run(jit);
      // The first lw fills the data page's entry by the slow path; the other 999 loads and all
      // 1000 stores hit. The finisher store is a device access: never a hit.
      expect(m.hart.tlb.hits).toBe(2 * ITERATIONS - 1);
      // Paging is off: no walks.
      expect(m.hart.tlb.misses).toBe(0);
    });
  }

  // LR and SC take the TLB as loads and stores do (Linux's boot: 17 k of each, every one a page walk
  // before): the first LR fills the entry by the slow path, every other LR and every SC hits.
  for (const jit of [false, true]) {
    it(`serves LR and SC from the TLB (${jit ? 'translator' : 'interpreter'})`, () => {
      const m = run(jit, `
  .equ FINISHER, 0x100000
  .globl _start
_start:
  la    s0, data
  li    s1, ${ITERATIONS}
loop:
  lr.w  t0, (s0)
  addi  t0, t0, 1
  sc.w  t1, t0, (s0)
  bnez  t1, fail
  addi  s1, s1, -1
  bnez  s1, loop
  lw    t0, 0(s0)
  li    t1, ${41 + ITERATIONS}
  bne   t0, t1, fail
  li    t0, FINISHER
  li    t1, 0x5555
  sw    t1, 0(t0)
fail:
  li    t0, FINISHER
  li    t1, 0x13333
  sw    t1, 0(t0)
1: j 1b
  .data
  .balign 4096
data: .word 41
`, 'tlb-lrsc.S');
      expect(m.exitCode).toBe(0);
      // The final lw hits too.
      expect(m.hart.tlb.hits).toBe(2 * ITERATIONS);
    });
  }

  it('decodes entries and remembers flushes', () => {
    const m = run(true);
    const data = m.hart.tlb.entries().filter((e) => e.read);
    expect(data.length).toBeGreaterThan(0);
    // sfence.vma drops translated entries only: bare (paging-off) entries stay, as the spec allows.
    for (const e of m.hart.tlb.entries()) expect([e.bare, e.priv, e.pte]).toEqual([true, 3, 0]);
    const code = m.hart.tlb.entries().find((e) => e.exec);
    expect(code?.vpn).toBe(0x80000);
    const last = m.hart.tlb.flushHistory().slice(-2);
    expect(last.map((f) => [f.kind, f.va, f.asid])).toEqual([['translated', undefined, undefined], ['translated', 0x12345000, 7]]);
    expect(last[1].seq).toBe(last[0].seq + 1);
  });

  // test/guests/asm/sv32-sum-mxr-toggle.S (compared with QEMU by the corpus test) sets or clears SUM 134
  // times and MXR 6 times with the same pages in use; the same program without the toggles makes
  // exactly as many flushes (reset, satp, sfence.vma).
  for (const jit of [false, true]) {
    it(`flushes nothing on SUM and MXR toggles, and entries filled under one setting do not serve the other (${jit ? 'translator' : 'interpreter'})`, async () => {
      const source = readFileSync(join(ASM_DIR, 'sv32-sum-mxr-toggle.S'), 'latin1');
      const untoggled = source.replace(/^  csr[sc] sstatus, t0$/gm, '  nop');
      expect(untoggled.split('\n').filter((l) => l === '  nop').length).toBe(6);
      const dir = mkdtempSync(join(tmpdir(), 'vmlab-tlb-sum-'));
      try {
        const variant = join(dir, 'untoggled.S');
        writeFileSync(variant, untoggled);
        const runElf = async (src: string): Promise<{ out: string; flushes: number }> => {
          let out = '';
          const m = new Machine({ cpu: { jit }, onUart: (b) => { out += String.fromCharCode(b); } });
          m.loadKernel(new Uint8Array(readFileSync(await buildAsm(src))));
          expect(m.run(10_000_000)).toBe(StopReason.EXIT);
          return { out, flushes: m.hart.tlb.flushes };
        };
        const toggled = await runElf(join(ASM_DIR, 'sv32-sum-mxr-toggle.S'));
        const plain = await runElf(variant);
        // 64 quiet rounds: the U word (0x1111 plus the three rounds' increments) with SUM=1, a
        // fault with SUM=0, the S word 0x2222.
        expect(toggled.out).toContain(`quiet sum=${(64 * (0x1114 + 0x2222)).toString(16).padStart(8, '0')}\nquiet faults=00000040\n`);
        expect(toggled.out.match(/sum=0 load u: M-trap cause=0000000d/g)?.length).toBe(3);
        expect(toggled.out.match(/mxr=0 load xo: M-trap cause=0000000d/g)?.length).toBe(3);
        expect(toggled.flushes).toBe(plain.flushes);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
