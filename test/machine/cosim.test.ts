// Co-simulation: for several guest programs, vmlab's register file (pc, x1..x31 and the main CSRs)
// after every instruction is compared with QEMU's single-step CPU log of the same ELF.
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { CSR_BY_NUM } from '../../src/engine/cpu/csr';
import { Machine, StopReason } from '../../src/engine/machine/machine';
import { GUEST_DIR, buildGuest, disassembly, mapLimit } from '../support/build';
import { H_LOGGED_CSRS, LOGGED_CSRS, traceQemu, type CpuState, type LoggedCsr, type QemuTrace } from '../support/qemu-trace';
import { QEMU_CPU } from '../support/qemu';

/** Programs traced (deterministic: no timer interrupts, no counter reads). */
const PROGRAMS = [
  'asm/rv32i-alu.S', 'asm/rv32i-branches.S', 'asm/rv32m.S', 'asm/rvc.S', 'asm/rv32a-amo.S', 'asm/rv32a-lrsc.S',
  'asm/trap-ecall.S', 'asm/illegal-insn.S', 'asm/delegation.S', 'asm/interrupt-software.S', 'asm/sv32-perms.S',
  'asm/sv32-ad.S', 'asm/page-faults.S', 'asm/pmp.S', 'c/qsort.c', 'c/int64.c',
  // The H extension (QEMU with h=true, vmlab with h=on): the H CSRs of the dump are compared too.
  'hyp/hyp-basic.S',
];
/** Whether a program needs the H extension. */
const needsH = (p: string): boolean => p.startsWith('hyp/');
/** Instructions compared per program at most. */
const LIMIT = Number(process.env.VMLAB_COSIM_LIMIT ?? 30_000);
/** mip is left out: QEMU's MTIP follows the host clock. */
const COMPARED_CSRS: readonly LoggedCsr[] = LOGGED_CSRS.filter((c) => c !== 'mip');
const COMPARED_CSRS_H: readonly LoggedCsr[] = [...COMPARED_CSRS, ...H_LOGGED_CSRS];
let compared = COMPARED_CSRS;
const CSR_NUM: Record<LoggedCsr, number> = {
  mstatus: 0x300, mip: 0x344, mie: 0x304, mideleg: 0x303, medeleg: 0x302, mtvec: 0x305, stvec: 0x105, mepc: 0x341,
  sepc: 0x141, mcause: 0x342, scause: 0x142, mtval: 0x343, stval: 0x143, mscratch: 0x340, sscratch: 0x140, satp: 0x180,
  mstatush: 0x310, hstatus: 0x600, vsstatus: 0x200, hideleg: 0x603, hedeleg: 0x602, vstvec: 0x205, vsepc: 0x241, vscause: 0x242,
  htval: 0x643, mtval2: 0x34b,
};
const ABI = ['zero', 'ra', 'sp', 'gp', 'tp', 't0', 't1', 't2', 's0', 's1', 'a0', 'a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7', 's2', 's3', 's4', 's5', 's6', 's7', 's8', 's9', 's10', 's11', 't3', 't4', 't5', 't6'];

const traces = new Map<string, QemuTrace>();
const elves = new Map<string, string>();
let totalCompared = 0;

function capture(m: Machine): CpuState {
  const csr: Partial<Record<LoggedCsr, number>> = {};
  for (const name of compared) csr[name] = (CSR_BY_NUM[CSR_NUM[name]]?.read(m.hart) ?? 0) >>> 0;
  // With H, QEMU 7.2's dump reads mideleg through its read-modify-write routine, which then forces the
  // VS and SGEI bits on (as a write does): the log itself changes the state, and vmlab follows it.
  if (m.hart.features.h) CSR_BY_NUM[0x303]!.write!(m.hart, m.hart.mideleg);
  return { pc: m.hart.pc >>> 0, x: Uint32Array.from(m.hart.x), csr };
}

const hex = (v: number | undefined): string => (v === undefined ? '--------' : (v >>> 0).toString(16).padStart(8, '0'));

function differences(v: CpuState, q: CpuState): string[] {
  const out: string[] = [];
  if (v.pc !== q.pc) out.push(`pc: vmlab ${hex(v.pc)} qemu ${hex(q.pc)}`);
  for (let r = 1; r < 32; r++) if (v.x[r] !== q.x[r]) out.push(`x${r}/${ABI[r]}: vmlab ${hex(v.x[r])} qemu ${hex(q.x[r])}`);
  for (const c of compared) if (v.csr[c] !== q.csr[c]) out.push(`${c}: vmlab ${hex(v.csr[c])} qemu ${hex(q.csr[c])}`);
  return out;
}

interface CosimResult {
  compared: number;
  /**
   * Realignments at trap entries. QEMU never logs a state whose pc faults on fetch (the fault is
   * raised while translating that block) and logs the handler before its first instruction after an
   * interrupt, while vmlab's step() shows the faulting pc, and takes an interrupt together with the
   * handler's first instruction. Where the pcs part, vmlab steps once more and must then match
   * QEMU's state (or the one after it). QEMU also logs a block again when it left it before its
   * first instruction (an exit request raised by a device write): such a repeated state is skipped.
   */
  realigned: number;
  divergence?: string;
}

/** Steps vmlab in lockstep with QEMU's states; stops at the first difference. */
function cosimulate(elf: string, trace: QemuTrace, dis: Map<number, string>, h = false): CosimResult {
  compared = h ? COMPARED_CSRS_H : COMPARED_CSRS;
  const m = new Machine({ ramSize: 128 * 1024 * 1024, cpu: { pmp: true, c: true, a: true, m: true, h, xsensitive: false } });
  m.loadKernel(new Uint8Array(readFileSync(elf)));
  const q = trace.states;
  let v = capture(m);
  let prev: CpuState | undefined;
  let realigned = 0;
  let i = 0;
  const report = (diff: string[]): CosimResult => {
    const at = prev ? `after the instruction at ${hex(prev.pc)} (${dis.get(prev.pc) ?? '?'})` : 'at reset';
    return { compared: i, realigned, divergence: `state ${i} ${at}:\n  ${diff.join('\n  ')}` };
  };
  while (i < q.length) {
    let diff = differences(v, q[i]);
    if (diff.length > 0 && i > 0 && i + 1 < q.length && differences(q[i], q[i - 1]).length === 0) {
      realigned++;
      i++;
      diff = differences(v, q[i]);
    }
    if (diff.length > 0 && v.pc !== q[i].pc) {
      m.step();
      const next = capture(m);
      if (differences(next, q[i]).length === 0) {
        v = next;
        realigned++;
      } else if (i + 1 < q.length && differences(next, q[i + 1]).length === 0) {
        v = next;
        realigned++;
        i++;
      }
      diff = differences(v, q[i]);
    }
    if (diff.length > 0) return report(diff);
    if (i === q.length - 1) break;
    prev = v;
    const reason = m.step();
    v = capture(m);
    i++;
    if (reason === StopReason.EXIT && i < q.length - 1) {
      return { compared: i, realigned, divergence: `vmlab exited after state ${i} but QEMU ran ${q.length} states` };
    }
  }
  return { compared: q.length, realigned };
}

beforeAll(async () => {
  await mapLimit(PROGRAMS, 4, async (p) => elves.set(p, await buildGuest(join(GUEST_DIR, p))));
  await mapLimit(PROGRAMS, 2, async (p) => traces.set(p, await traceQemu(elves.get(p)!, LIMIT, needsH(p) ? { cpu: QEMU_CPU.replace('h=false', 'h=true') } : {})));
}, 600_000);

afterAll(() => {
  console.log(`cosim: ${PROGRAMS.length} programs, ${totalCompared} instruction states compared with QEMU in lockstep (limit ${LIMIT} per program)`);
});

describe('co-simulation with QEMU single-step CPU logs', () => {
  test.each(PROGRAMS.map((p) => [basename(p), p]))('%s', async (_name, p) => {
    const trace = traces.get(p)!;
    const result = cosimulate(elves.get(p)!, trace, await disassembly(elves.get(p)!), needsH(p));
    totalCompared += result.compared;
    expect(result.divergence, `${p}: ${result.divergence}`).toBeUndefined();
    expect(result.compared).toBe(trace.states.length);
  });
});
