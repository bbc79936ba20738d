// The CSR table (STYLE principle 6): one entry per CSR with its name, number, an access predicate,
// and read/write functions. Privilege and read-only checks that follow from the number itself
// (§2.1: bits 11:10 = 3 read-only, bits 9:8 = lowest privilege) are applied by Hart.csrAccess.

import type { Hart } from './hart';
import {
  Csr, MEDELEG_WRITABLE, MIDELEG_WRITABLE, MIE_WRITABLE, MIP_SW_WRITABLE, Mstatus, MSTATUS_WRITABLE, SSTATUS_MASK,
} from './csr-defs';
import { TINFO } from './triggers';
import { H_CSRS, readSieH, readSipH, writeSieH, writeSipH } from './hext-csrs';
import { HS_INTS, MEDELEG_H_EXTRA, MIE_WRITABLE_H, MIP_WRITABLE_H } from './hext';

/** Access predicate: returns 0 when allowed, else the exception cause (illegal instruction). */
export type CsrPredicate = (h: Hart, num: number) => number;

/** One CSR of the table. */
export interface CsrDef {
  readonly name: string;
  readonly num: number;
  readonly pred: CsrPredicate;
  readonly read: (h: Hart) => number;
  /** Absent for read-only CSRs. */
  readonly write?: (h: Hart, value: number) => void;
}

const ILLEGAL = 2;
const VIRTUAL = 22;
const any: CsrPredicate = () => 0;
const pmpPred: CsrPredicate = (h) => (h.features.pmp ? 0 : ILLEGAL);
const satpPred: CsrPredicate = (h) => (h.priv === 1 && (h.mstatus & Mstatus.TVM) !== 0 ? ILLEGAL : 0);

/**
 * Counter CSRs below M-mode are gated by mcounteren and, in U-mode, scounteren (§3.1.11); with V=1
 * also by hcounteren and, in VU-mode, scounteren, as virtual-instruction exceptions (§8.2.6).
 */
const counterPred: CsrPredicate = (h, num) => {
  const bit = 1 << (num & 0x1f);
  if (h.priv < 3 && (h.mcounteren & bit) === 0) return ILLEGAL;
  if (h.hx.virt && ((h.hx.hcounteren & bit) === 0 || (h.priv < 1 && (h.scounteren & bit) === 0))) return VIRTUAL;
  if (h.priv < 1 && (h.scounteren & bit) === 0) return ILLEGAL;
  return 0;
};

function lo32(v: number): number {
  return v % 4294967296 >>> 0;
}

function hi32(v: number): number {
  return Math.floor(v / 4294967296) >>> 0;
}

function with64(old: number, value: number, high: boolean): number {
  return high ? (value >>> 0) * 4294967296 + lo32(old) : hi32(old) * 4294967296 + (value >>> 0);
}

const defs: CsrDef[] = [
  // Supervisor (§4.1)
  { name: 'sstatus', num: Csr.SSTATUS, pred: any, read: (h) => h.readMstatus() & SSTATUS_MASK, write: (h, v) => h.writeMstatus((h.mstatus & ~SSTATUS_MASK) | (v & SSTATUS_MASK)) },
  { name: 'sie', num: Csr.SIE, pred: any, read: (h) => (h.features.h ? readSieH(h) : h.mie & h.mideleg), write: (h, v) => (h.features.h ? writeSieH(h, v) : h.setMie((h.mie & ~h.mideleg) | (v & h.mideleg))) },
  { name: 'stvec', num: Csr.STVEC, pred: any, read: (h) => h.stvec, write: (h, v) => { if ((v & 3) < 2) h.stvec = v >>> 0; } },
  { name: 'scounteren', num: Csr.SCOUNTEREN, pred: any, read: (h) => h.scounteren, write: (h, v) => { h.scounteren = v >>> 0; } },
  { name: 'senvcfg', num: Csr.SENVCFG, pred: any, read: (h) => h.senvcfg, write: (h, v) => { h.senvcfg = v & 1; } },
  { name: 'sscratch', num: Csr.SSCRATCH, pred: any, read: (h) => h.sscratch, write: (h, v) => { h.sscratch = v >>> 0; } },
  { name: 'sepc', num: Csr.SEPC, pred: any, read: (h) => h.sepc, write: (h, v) => { h.sepc = h.legalEpc(v); } },
  { name: 'scause', num: Csr.SCAUSE, pred: any, read: (h) => h.scause, write: (h, v) => { h.scause = v >>> 0; } },
  { name: 'stval', num: Csr.STVAL, pred: any, read: (h) => h.stval, write: (h, v) => { h.stval = v >>> 0; } },
  { name: 'sip', num: Csr.SIP, pred: any, read: (h) => (h.features.h ? readSipH(h) : h.readMip() & h.mideleg), write: (h, v) => (h.features.h ? writeSipH(h, v) : h.setMipSw((h.mipSw & ~(h.mideleg & 2)) | (v & h.mideleg & 2))) },
  { name: 'satp', num: Csr.SATP, pred: satpPred, read: (h) => h.satp, write: (h, v) => h.writeSatp(v) },
  // Machine (§3.1)
  { name: 'mstatus', num: Csr.MSTATUS, pred: any, read: (h) => h.readMstatus(), write: (h, v) => h.writeMstatus(v) },
  { name: 'misa', num: Csr.MISA, pred: any, read: (h) => h.misa, write: () => {} },
  { name: 'medeleg', num: Csr.MEDELEG, pred: any, read: (h) => h.medeleg, write: (h, v) => { h.medeleg = v & (h.features.h ? MEDELEG_WRITABLE | MEDELEG_H_EXTRA : MEDELEG_WRITABLE); } },
  { name: 'mideleg', num: Csr.MIDELEG, pred: any, read: (h) => h.mideleg, write: (h, v) => { h.mideleg = h.features.h ? (v & MIP_WRITABLE_H) | HS_INTS : v & MIDELEG_WRITABLE; h.interruptsChanged(); } },
  { name: 'mie', num: Csr.MIE, pred: any, read: (h) => h.mie, write: (h, v) => h.setMie(v & (h.features.h ? MIE_WRITABLE_H : MIE_WRITABLE)) },
  { name: 'mtvec', num: Csr.MTVEC, pred: any, read: (h) => h.mtvec, write: (h, v) => { if ((v & 3) < 2) h.mtvec = v >>> 0; } },
  { name: 'mcounteren', num: Csr.MCOUNTEREN, pred: any, read: (h) => h.mcounteren, write: (h, v) => { h.mcounteren = v >>> 0; } },
  { name: 'menvcfg', num: Csr.MENVCFG, pred: any, read: (h) => h.menvcfg, write: (h, v) => { h.menvcfg = v & 1; } },
  // mstatush: with H, GVA (bit 6) and MPV (bit 7).
  { name: 'mstatush', num: Csr.MSTATUSH, pred: any, read: (h) => (h.hx.gva ? 0x40 : 0) | (h.hx.mpv ? 0x80 : 0), write: (h, v) => { if (h.features.h) { h.hx.gva = (v & 0x40) !== 0; h.hx.mpv = (v & 0x80) !== 0; h.contextChanged(); } } },
  { name: 'menvcfgh', num: Csr.MENVCFGH, pred: any, read: () => 0, write: () => {} },
  { name: 'mcountinhibit', num: Csr.MCOUNTINHIBIT, pred: any, read: (h) => h.mcountinhibit, write: (h, v) => { h.mcountinhibit = (v & ~2) >>> 0; } },
  { name: 'mscratch', num: Csr.MSCRATCH, pred: any, read: (h) => h.mscratch, write: (h, v) => { h.mscratch = v >>> 0; } },
  { name: 'mepc', num: Csr.MEPC, pred: any, read: (h) => h.mepc, write: (h, v) => { h.mepc = h.legalEpc(v); } },
  { name: 'mcause', num: Csr.MCAUSE, pred: any, read: (h) => h.mcause, write: (h, v) => { h.mcause = v >>> 0; } },
  { name: 'mtval', num: Csr.MTVAL, pred: any, read: (h) => h.mtval, write: (h, v) => { h.mtval = v >>> 0; } },
  { name: 'mip', num: Csr.MIP, pred: any, read: (h) => h.readMip(), write: (h, v) => h.setMipSw(h.features.h ? (h.mipSw & ~MIP_WRITABLE_H) | (v & MIP_WRITABLE_H) : v & MIP_SW_WRITABLE) },
  // Counters (§3.1.10, unprivileged ch. 10)
  { name: 'mcycle', num: Csr.MCYCLE, pred: any, read: (h) => lo32(h.cycle()), write: (h, v) => h.setCycle(with64(h.cycle(), v, false)) },
  { name: 'minstret', num: Csr.MINSTRET, pred: any, read: (h) => lo32(h.instretNow()), write: (h, v) => h.setInstret(with64(h.instretNow(), v, false)) },
  { name: 'mcycleh', num: Csr.MCYCLEH, pred: any, read: (h) => hi32(h.cycle()), write: (h, v) => h.setCycle(with64(h.cycle(), v, true)) },
  { name: 'minstreth', num: Csr.MINSTRETH, pred: any, read: (h) => hi32(h.instretNow()), write: (h, v) => h.setInstret(with64(h.instretNow(), v, true)) },
  { name: 'cycle', num: Csr.CYCLE, pred: counterPred, read: (h) => lo32(h.cycle()) },
  { name: 'time', num: Csr.TIME, pred: counterPred, read: (h) => lo32(h.time.now() + (h.hx.virt ? h.hx.htimedelta : 0)) },
  { name: 'instret', num: Csr.INSTRET, pred: counterPred, read: (h) => lo32(h.instretNow()) },
  { name: 'cycleh', num: Csr.CYCLEH, pred: counterPred, read: (h) => hi32(h.cycle()) },
  { name: 'timeh', num: Csr.TIMEH, pred: counterPred, read: (h) => hi32(h.time.now() + (h.hx.virt ? h.hx.htimedelta : 0)) },
  { name: 'instreth', num: Csr.INSTRETH, pred: counterPred, read: (h) => hi32(h.instretNow()) },
  // Identification (§3.1.1-3.1.5)
  { name: 'mvendorid', num: Csr.MVENDORID, pred: any, read: () => 0 },
  { name: 'marchid', num: Csr.MARCHID, pred: any, read: () => 0 },
  { name: 'mimpid', num: Csr.MIMPID, pred: any, read: () => 0 },
  { name: 'mhartid', num: Csr.MHARTID, pred: any, read: (h) => h.hartId },
  { name: 'mconfigptr', num: Csr.MCONFIGPTR, pred: any, read: () => 0 },
];

/** Hardware performance counters of QEMU 7.2's rv32 (its pmu-num default): mhpmcounter3..18. */
const HPM_COUNTERS = 16;
const illegal: CsrPredicate = () => ILLEGAL;
// As QEMU 7.2: mhpmcounter3..18 (and high halves) hold what is written and count nothing (no
// event is supported), 19..31 are illegal, as are hpmcounter19..31; mhpmevent3..31 hold what is
// written. OpenSBI counts the counters at boot by writing them ("MHPM Info: 16", Zihpm).
for (let n = 3; n < 32; n++) {
  const present = n < 3 + HPM_COUNTERS;
  defs.push({ name: `mhpmcounter${n}`, num: 0xb00 + n, pred: present ? any : illegal, read: (h) => h.mhpmcounter[n], write: (h, v) => { h.mhpmcounter[n] = v; } });
  defs.push({ name: `mhpmcounter${n}h`, num: 0xb80 + n, pred: present ? any : illegal, read: (h) => h.mhpmcounterh[n], write: (h, v) => { h.mhpmcounterh[n] = v; } });
  defs.push({ name: `mhpmevent${n}`, num: 0x320 + n, pred: any, read: (h) => h.mhpmevent[n], write: (h, v) => { h.mhpmevent[n] = v; } });
  defs.push({ name: `hpmcounter${n}`, num: 0xc00 + n, pred: present ? counterPred : illegal, read: (h) => h.mhpmcounter[n] });
  defs.push({ name: `hpmcounter${n}h`, num: 0xc80 + n, pred: present ? counterPred : illegal, read: (h) => h.mhpmcounterh[n] });
}
// Physical memory protection (§3.7).
for (let n = 0; n < 4; n++) {
  defs.push({ name: `pmpcfg${n}`, num: Csr.PMPCFG0 + n, pred: pmpPred, read: (h) => h.pmp.readCfg(n), write: (h, v) => h.pmpWrite(() => h.pmp.writeCfg(n, v)) });
}
for (let n = 0; n < 16; n++) {
  defs.push({ name: `pmpaddr${n}`, num: Csr.PMPADDR0 + n, pred: pmpPred, read: (h) => h.pmp.readAddr(n), write: (h, v) => h.pmpWrite(() => h.pmp.writeAddr(n, v)) });
}

// Debug triggers (Debug Specification 0.13 §5.2; QEMU 7.2 target/riscv/debug.c; triggers.ts).
defs.push(
  { name: 'tselect', num: 0x7a0, pred: any, read: (h) => h.triggers.select, write: (h, v) => h.triggers.writeSelect(v) },
  { name: 'tdata1', num: 0x7a1, pred: any, read: (h) => h.triggers.tdata1[h.triggers.select], write: (h, v) => { if (h.triggers.writeData1(v)) h.triggersChanged(); } },
  { name: 'tdata2', num: 0x7a2, pred: any, read: (h) => h.triggers.tdata2[h.triggers.select], write: (h, v) => { if (h.triggers.writeData2(v)) h.triggersChanged(); } },
  { name: 'tdata3', num: 0x7a3, pred: any, read: () => 0, write: () => {} },
  { name: 'tinfo', num: 0x7a4, pred: any, read: () => TINFO, write: () => {} },
);

// The H extension (hext-csrs.ts).
defs.push(...H_CSRS);

/** Every CSR, in table order. */
export const CSRS: readonly CsrDef[] = defs;

/** CSR definitions indexed by number (undefined: not implemented, access is illegal). */
export const CSR_BY_NUM: readonly (CsrDef | undefined)[] = (() => {
  const table: (CsrDef | undefined)[] = new Array(4096).fill(undefined);
  for (const def of defs) table[def.num] = def;
  return table;
})();

/** CSR numbers by name (for the assembler and inspectors). */
export const CSR_BY_NAME: ReadonlyMap<string, CsrDef> = new Map(defs.map((def) => [def.name, def]));

/** mstatus writes: legalise MPP (QEMU keeps only modes the hart has) and drop unwritable bits. */
export function legalMstatus(old: number, value: number): number {
  let v = (old & ~MSTATUS_WRITABLE) | (value & MSTATUS_WRITABLE);
  if (((v & Mstatus.MPP) >>> Mstatus.MPP_SHIFT) === 2) v = (v & ~Mstatus.MPP) | (old & Mstatus.MPP);
  return v >>> 0;
}
