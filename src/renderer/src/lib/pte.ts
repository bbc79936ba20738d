// Sv32 page-table entries for the page-table inspector (privileged spec §10.3, "Sv32"): flag bits,
// what an entry points to, page numbers counted from the start of RAM, and the packed entries of
// vm.tablePage.

import { unpackTableEntries } from '../../../shared/inspect-api';

/** The PTE flag bits, low to high, with what each means. */
export const PTE_FLAGS: readonly { readonly letter: string; readonly bit: number; readonly meaning: string }[] = [
  { letter: 'V', bit: 1 << 0, meaning: 'valid' },
  { letter: 'R', bit: 1 << 1, meaning: 'readable' },
  { letter: 'W', bit: 1 << 2, meaning: 'writable' },
  { letter: 'X', bit: 1 << 3, meaning: 'executable' },
  { letter: 'U', bit: 1 << 4, meaning: 'user mode may access' },
  { letter: 'G', bit: 1 << 5, meaning: 'global (all address spaces)' },
  { letter: 'A', bit: 1 << 6, meaning: 'accessed' },
  { letter: 'D', bit: 1 << 7, meaning: 'dirty' },
];

/** The flags as eight letters in the order V R W X U G A D, '-' for a clear bit. */
export function flagLetters(pte: number): string {
  return PTE_FLAGS.map((f) => ((pte & f.bit) !== 0 ? f.letter : '-')).join('');
}

/** The set flags in words, e.g. "valid, readable, writable, accessed, dirty". */
export function flagWords(pte: number): string {
  const on = PTE_FLAGS.filter((f) => (pte & f.bit) !== 0).map((f) => f.meaning);
  return on.length > 0 ? on.join(', ') : 'no flags';
}

/** What a valid entry is: a pointer to the next level, a leaf (page or megapage), or a reserved encoding. */
export type PteKind = 'table' | 'leaf' | 'reserved';

/** The kind of a valid PTE at `level` (1: root, 0: last level). */
export function pteKind(pte: number, level: number): PteKind {
  const r = (pte & 2) !== 0;
  const w = (pte & 4) !== 0;
  const x = (pte & 8) !== 0;
  if (w && !r) return 'reserved';
  if (r || x) return 'leaf';
  return level === 0 ? 'reserved' : 'table';
}

/** The physical page number of a PTE (22 bits; the address may exceed 32 bits). */
export function ptePpn(pte: number): number {
  return pte >>> 10;
}

/** Where a PTE points: the next table's address, the page's, or a megapage's (4 MiB aligned) at level 1. */
export function pteTarget(pte: number, level: number): number {
  if (level === 1 && pteKind(pte, 1) === 'leaf') return (pte >>> 20) * 4194304;
  return ptePpn(pte) * 4096;
}

/** The bytes one entry of a table page at `level` covers. */
export function entrySpan(level: number): number {
  return level === 1 ? 4194304 : 4096;
}

/** An address's page number counted from `ramBase`, or undefined outside RAM (below its start). */
export function ramPage(address: number, ramBase: number): number | undefined {
  return address >= ramBase ? Math.floor((address - ramBase) / 4096) : undefined;
}

/** A page number in hex as the lecture writes it: at least two digits, no prefix ("01", "a2", "1c0"). */
export function pageHex(page: number): string {
  return page.toString(16).padStart(2, '0');
}

/** An address in hex without the prefix, eight digits (more above 4 GiB: physical addresses have 34 bits). */
export function addrHex(address: number): string {
  return address.toString(16).padStart(8, '0');
}

/** A table page's packed [index, pte] words (the shared decoder). */
export const unpackEntries = unpackTableEntries;

/** Exception causes a translation can raise, in words (privileged spec table 3.6). */
export const FAULT_NAMES: Record<number, string> = {
  1: 'instruction access fault', 5: 'load access fault', 7: 'store access fault',
  12: 'instruction page fault', 13: 'load page fault', 15: 'store page fault',
};

/** A cause in words with its number, e.g. "load page fault (scause 13)". */
export function faultName(cause: number): string {
  return `${FAULT_NAMES[cause] ?? `exception ${cause}`} (cause ${cause})`;
}
