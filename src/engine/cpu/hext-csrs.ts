// The H extension's CSRs (privileged spec 20211203 §8.2-8.3) as QEMU 7.2's target/riscv/csr.c keeps
// them on rv32: hypervisor CSRs, the VS CSRs (background copies, see hext.ts), mtval2/mtinst, and the
// H-aware views of sie/sip. All are illegal on a hart without the `h` feature. VS-level interrupt bits
// live in mip/mie at their own positions (VSSIP 2, VSTIP 6, VSEIP 10); vsie/vsip show them shifted
// down by one, filtered by hideleg.

import type { Hart } from './hart';
import type { CsrDef, CsrPredicate } from './csr';
import { Hstatus, HEDELEG_WRITABLE, HS_INTS, S_INTS, VS_INTS } from './hext';

const ILLEGAL = 2;
const hmode: CsrPredicate = (h) => (h.features.h ? 0 : ILLEGAL);

function mip(h: Hart): number {
  return (h.mipSw | h.mipHw) >>> 0;
}

/** Replaces the `mask` bits of the software-set pending bits. */
function setMipBits(h: Hart, mask: number, value: number): void {
  h.setMipSw(((h.mipSw & ~mask) | (value & mask)) >>> 0);
}

function setMieBits(h: Hart, mask: number, value: number): void {
  h.setMie(((h.mie & ~mask) | (value & mask)) >>> 0);
}

/** vsie: the VS-level enables delegated by hideleg, at S-level positions. */
function readVsie(h: Hart): number {
  return (h.mie & h.hx.hideleg & VS_INTS) >>> 1;
}
function writeVsie(h: Hart, v: number): void {
  setMieBits(h, h.hx.hideleg & VS_INTS, v << 1);
}
/** vsip: only VSSIP, readable and writable when hideleg delegates it (QEMU 7.2 masks the read too). */
function readVsip(h: Hart): number {
  return (mip(h) & h.hx.hideleg & 0x4) >>> 1;
}
function writeVsip(h: Hart, v: number): void {
  setMipBits(h, h.hx.hideleg & 0x4, v << 1);
}

/**
 * sie with H: vsie while V=1, else the S-level enables mideleg delegates. QEMU 7.2 masks the vsie
 * value with mideleg's S-level bits too, so a VS guest reads its enables only where M delegated the
 * same S-level interrupt (the writes take effect all the same).
 */
export function readSieH(h: Hart): number {
  return (h.hx.virt ? readVsie(h) : h.mie) & h.mideleg & S_INTS;
}
export function writeSieH(h: Hart, v: number): void {
  if (h.hx.virt) writeVsie(h, v);
  else setMieBits(h, h.mideleg & S_INTS, v);
}
/** sip with H: vsip while V=1, else the delegated S-level pending bits (SSIP writable); masked as sie. */
export function readSipH(h: Hart): number {
  return (h.hx.virt ? readVsip(h) : mip(h)) & h.mideleg & S_INTS;
}
export function writeSipH(h: Hart, v: number): void {
  if (h.hx.virt) writeVsip(h, v);
  else setMipBits(h, h.mideleg & 0x2, v);
}

function lo32(v: number): number {
  return v % 4294967296 >>> 0;
}
function hi32(v: number): number {
  return Math.floor(v / 4294967296) >>> 0;
}

/** The H extension's CSRs. */
export const H_CSRS: readonly CsrDef[] = [
  // Hypervisor (§8.2)
  { name: 'hstatus', num: 0x600, pred: hmode, read: (h) => h.hx.hstatus & ~Hstatus.VSBE, write: (h, v) => { h.hx.hstatus = v >>> 0; } },
  { name: 'hedeleg', num: 0x602, pred: hmode, read: (h) => h.hx.hedeleg, write: (h, v) => { h.hx.hedeleg = v & HEDELEG_WRITABLE; } },
  { name: 'hideleg', num: 0x603, pred: hmode, read: (h) => h.hx.hideleg, write: (h, v) => { h.hx.hideleg = v & VS_INTS; h.interruptsChanged(); } },
  { name: 'hie', num: 0x604, pred: hmode, read: (h) => h.mie & HS_INTS, write: (h, v) => setMieBits(h, HS_INTS, v) },
  { name: 'htimedelta', num: 0x605, pred: hmode, read: (h) => lo32(h.hx.htimedelta), write: (h, v) => { h.hx.htimedelta = hi32(h.hx.htimedelta) * 4294967296 + (v >>> 0); } },
  { name: 'hcounteren', num: 0x606, pred: hmode, read: (h) => h.hx.hcounteren, write: (h, v) => { h.hx.hcounteren = v >>> 0; } },
  { name: 'hgeie', num: 0x607, pred: hmode, read: () => 0, write: () => {} },
  { name: 'henvcfg', num: 0x60a, pred: hmode, read: (h) => h.hx.henvcfg, write: (h, v) => { h.hx.henvcfg = v & 1; } },
  { name: 'htimedeltah', num: 0x615, pred: hmode, read: (h) => hi32(h.hx.htimedelta), write: (h, v) => { h.hx.htimedelta = (v >>> 0) * 4294967296 + lo32(h.hx.htimedelta); } },
  { name: 'henvcfgh', num: 0x61a, pred: hmode, read: () => 0, write: () => {} },
  { name: 'htval', num: 0x643, pred: hmode, read: (h) => h.hx.htval, write: (h, v) => { h.hx.htval = v >>> 0; } },
  { name: 'hip', num: 0x644, pred: hmode, read: (h) => mip(h) & HS_INTS, write: (h, v) => setMipBits(h, 0x4, v) },
  { name: 'hvip', num: 0x645, pred: hmode, read: (h) => mip(h) & VS_INTS, write: (h, v) => setMipBits(h, VS_INTS, v) },
  // htinst reads 0 and ignores writes, as in QEMU 7.2 (which never reports transformed instructions).
  { name: 'htinst', num: 0x64a, pred: hmode, read: () => 0, write: () => {} },
  { name: 'hgatp', num: 0x680, pred: hmode, read: (h) => h.hx.hgatp, write: (h, v) => writeHgatp(h, v) },
  { name: 'hgeip', num: 0xe12, pred: hmode, read: () => 0 },
  // Virtual supervisor (§8.2.11-8.2.18): the background copies, read and written from HS or M.
  { name: 'vsstatus', num: 0x200, pred: hmode, read: (h) => h.hx.vsstatus, write: (h, v) => { h.hx.vsstatus = v >>> 0; h.contextChanged(); } },
  { name: 'vsie', num: 0x204, pred: hmode, read: readVsie, write: writeVsie },
  { name: 'vstvec', num: 0x205, pred: hmode, read: (h) => h.hx.vstvec, write: (h, v) => { if ((v & 3) < 2) h.hx.vstvec = v >>> 0; } },
  { name: 'vsscratch', num: 0x240, pred: hmode, read: (h) => h.hx.vsscratch, write: (h, v) => { h.hx.vsscratch = v >>> 0; } },
  { name: 'vsepc', num: 0x241, pred: hmode, read: (h) => h.hx.vsepc, write: (h, v) => { h.hx.vsepc = h.legalEpc(v); } },
  { name: 'vscause', num: 0x242, pred: hmode, read: (h) => h.hx.vscause, write: (h, v) => { h.hx.vscause = v >>> 0; } },
  { name: 'vstval', num: 0x243, pred: hmode, read: (h) => h.hx.vstval, write: (h, v) => { h.hx.vstval = v >>> 0; } },
  { name: 'vsip', num: 0x244, pred: hmode, read: readVsip, write: writeVsip },
  { name: 'vsatp', num: 0x280, pred: hmode, read: (h) => h.hx.vsatp, write: (h, v) => { h.hx.vsatp = v >>> 0; } },
  // Machine trap values of the H extension (§8.2.19-8.2.20); QEMU 7.2 leaves the trap's mtinst/htinst 0.
  { name: 'mtinst', num: 0x34a, pred: hmode, read: (h) => h.hx.mtinst, write: (h, v) => { h.hx.mtinst = v >>> 0; } },
  { name: 'mtval2', num: 0x34b, pred: hmode, read: (h) => h.hx.mtval2, write: (h, v) => { h.hx.mtval2 = v >>> 0; } },
];

/**
 * hgatp holds what is written (QEMU 7.2). Translations are tagged by VMID, so only a new root or
 * mode under the same VMID drops the guest entries.
 */
function writeHgatp(h: Hart, v: number): void {
  const old = h.hx.hgatp;
  h.hx.hgatp = v >>> 0;
  if (old !== h.hx.hgatp && ((old ^ v) >>> 22 & 0x7f) === 0) h.tlb.flushTranslated(undefined, undefined);
  h.contextChanged();
}
