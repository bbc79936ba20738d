// The translate box's explanation of one vm.walk: every PTE read in order, with its address in each
// space, the nested pmap walks of the two-dimensional walk, the shadow walk the hardware does in trap
// mode, and the result or the fault in words a student can follow (privileged spec §10.3.2, the
// Sv32 walk; §8.5 for the two-stage walk). Addresses are segments the view turns into links.

import type { AddressSpace, MachineMode, WalkInfo, WalkReferenceInfo, WalkStepInfo } from '../../../shared/lab-api';
import { faultName, flagLetters, pageHex, pteKind, pteTarget, ramPage } from './pte';

/**
 * A piece of an explanation line: text, or an address the view links to the memory view (`vmm`:
 * in the VMM's own frames, the pmap's and the shadows' tables, which no VM's memory view shows).
 */
export type Seg = string | { readonly address: number; readonly space: AddressSpace; readonly text: string; readonly vmm?: boolean };

/** One line of an explanation; `depth` 1 is a nested pmap walk inside a guest step. */
export interface WalkLine {
  /** 'ref': one memory reference of the hardware's two-dimensional walk (hw mode), numbered apart from the steps. */
  readonly kind: 'head' | 'summary' | 'step' | 'nested' | 'result' | 'fault' | 'note' | 'ref';
  readonly depth: number;
  readonly segs: Seg[];
}

/** What the explanation needs to know of the machine besides the walk. */
export interface WalkMachine {
  readonly mode: MachineMode;
  readonly satp: number;
  readonly guestRamBase: number;
  readonly hostRamBase: number;
  /** Guest-physical pages (addresses) holding guest page tables that trap mode write-protects. */
  readonly writeProtected: readonly number[];
}

const PRIV = ['U', 'S', 'H', 'M'];
const ACCESS_WORD = { fetch: 'instruction fetch from', load: 'load from', store: 'store to' } as const;
const hex = (v: number, digits = 8): string => `0x${v.toString(16).padStart(digits, '0')}`;

/** The address spaces of a machine: virtual (input), the table's, and host. */
function spaces(mode: MachineMode): { va: AddressSpace; gpa: AddressSpace; hpa: AddressSpace } {
  return mode === 'bare'
    ? { va: 'virtual', gpa: 'physical', hpa: 'physical' }
    : { va: 'guest-virtual', gpa: 'guest-physical', hpa: 'host-physical' };
}

const SHORT: Record<AddressSpace, string> = { virtual: 'va', physical: 'pa', 'guest-virtual': 'gva', 'guest-physical': 'gpa', 'host-physical': 'hpa' };

/** An address link, "gpa 0x800a2000". */
function at(address: number, space: AddressSpace, vmm = false): Seg {
  return vmm ? { address, space, text: `${SHORT[space]} ${hex(address)}`, vmm } : { address, space, text: `${SHORT[space]} ${hex(address)}` };
}

/** " (page a2)" for an address in RAM. */
function pageNote(address: number, base: number, word = 'page'): string {
  const p = ramPage(address, base);
  return p === undefined ? '' : ` (${word} ${pageHex(p)})`;
}

/** Why a walk stopped at `pte`, in words (the spec's checks in the order the walk makes them). */
export function faultReason(pte: number, level: number, access: WalkInfo['access'], priv: number, cause: number): string {
  if (cause === 1 || cause === 5 || cause === 7) return 'the entry\'s address is not in RAM, so the walk itself cannot read it (an access fault)';
  if ((pte & 1) === 0) return 'the entry is not valid (V = 0): nothing is mapped there';
  const kind = pteKind(pte, level);
  if (kind === 'reserved') return (pte & 6) === 4 ? 'the entry is reserved (W without R)' : 'a level-0 entry must be a leaf (R, W or X set), not a pointer';
  if (kind === 'table') return 'the walk ran out of levels';
  const user = (pte & 16) !== 0;
  if (priv === 0 && !user) return 'user mode may not touch a supervisor page (U = 0)';
  if (priv === 1 && user) return access === 'fetch' ? 'S-mode never executes from a user page (U = 1)' : 'S-mode may touch a user page (U = 1) only with mstatus.SUM set';
  if (access === 'fetch' && (pte & 8) === 0) return 'the page is not executable (X = 0)';
  if (access === 'load' && (pte & 2) === 0) return 'the page is not readable (R = 0, and mstatus.MXR does not make it so)';
  if (access === 'store' && (pte & 4) === 0) return 'the page is not writable (W = 0)';
  if (level === 1 && ((pte >>> 10) & 0x3ff) !== 0) return 'a megapage must start on a 4 MiB boundary (PPN[0] = 0)';
  return 'the entry does not allow this access';
}

/** What a PTE read found: "0x200288c7 VRW---AD: a leaf → gpa 0x800a2000 (page a2)". */
function pteSegs(pte: number, level: number, to: AddressSpace, base: number, tableSpace: AddressSpace, vmmTables = false): Seg[] {
  const head = `= ${hex(pte)} ${flagLetters(pte)}`;
  if ((pte & 1) === 0) return [`${head}: not valid`];
  const kind = pteKind(pte, level);
  if (kind === 'reserved') return [`${head}: a reserved encoding`];
  const target = pteTarget(pte, level);
  if (kind === 'table') return [`${head}: points to the level-0 table at `, at(target, tableSpace, vmmTables), pageNote(target, base)];
  if (level === 1) return [`${head}: a 4 MiB megapage at `, at(target, to), pageNote(target, base)];
  return [`${head}: a leaf → `, at(target, to), pageNote(target, base, to === 'host-physical' ? 'frame' : 'page')];
}

/** Index of the entry a walk of `addr` reads at `level` (the pmap's Sv32x4 root takes 12 bits). */
function entryIndex(addr: number, level: number): number {
  return level === 1 ? Math.floor(addr / 4194304) : Math.floor(addr / 4096) % 1024;
}

/** The lines of one pmap walk of guest-physical `gpa`. */
function pmapLines(steps: WalkStepInfo[], gpa: number, m: WalkMachine, depth: number): WalkLine[] {
  return steps.map((s) => ({
    kind: depth > 0 ? 'nested' : 'step',
    depth,
    segs: [`pmap level ${s.level}, entry 0x${entryIndex(gpa, s.level).toString(16)} at `, at(s.pteAddress, 'host-physical', true), ' ', ...pteSegs(s.pte, s.level, 'host-physical', m.hostRamBase, 'host-physical', true)],
  }));
}

/** Explains a walk line by line. */
export function explainWalk(w: WalkInfo, m: WalkMachine): WalkLine[] {
  const sp = spaces(m.mode);
  const vm = m.mode !== 'bare';
  const lines: WalkLine[] = [];
  const line = (kind: WalkLine['kind'], ...segs: Seg[]): void => void lines.push({ kind, depth: 0, segs });
  line('head', `${ACCESS_WORD[w.access]} `, at(w.va, sp.va), ` as ${PRIV[w.priv]}-mode`);
  const tableSteps = w.steps.filter((s) => s.stage === 'guest' || s.stage === 'machine');
  const finalPmap = w.steps.filter((s) => s.stage === 'pmap');
  let refs = 0;
  if (!w.paged) {
    line('note', w.priv === 3 ? 'M-mode does not translate' : 'satp.MODE is Bare: translation is off', `: ${vm ? 'guest-virtual = guest-physical' : 'virtual = physical'}.`);
  } else {
    const root = (m.satp & 0x3fffff) * 4096;
    line('note', `satp ${hex(m.satp)}: Sv32, root table at `, at(root, sp.gpa), `${pageNote(root, m.guestRamBase)}; VPN[1] = 0x${(w.va >>> 22).toString(16)}, VPN[0] = 0x${((w.va >>> 12) & 0x3ff).toString(16)}, offset 0x${(w.va & 0xfff).toString(16)}`);
    for (const s of tableSteps) {
      const where: Seg[] = [`${vm ? 'guest table' : 'page table'} level ${s.level}, entry 0x${entryIndex(w.va, s.level).toString(16)} at `, at(s.pteAddress, sp.gpa)];
      if (vm && s.pteHostAddress !== undefined) where.push(' = ', at(s.pteHostAddress, 'host-physical'));
      lines.push({ kind: 'step', depth: 0, segs: [...where, ' ', ...pteSegs(s.pte, s.level, sp.gpa, m.guestRamBase, sp.gpa)] });
      refs++;
      if (s.nested.length > 0) {
        line('note', '  found in host memory through the pmap:');
        lines.push(...pmapLines(s.nested, s.pteAddress, m, 1));
        refs += s.nested.length;
      }
    }
    if (w.fault !== 0 && w.faultStage !== 'pmap') {
      const last = tableSteps[tableSteps.length - 1];
      const reason = last ? faultReason(last.pte, last.level, w.access, w.priv, w.fault) : 'the walk could not start';
      line('fault', `${faultName(w.fault)}: ${reason}. stval = ${hex(w.va)}.`);
    }
  }
  if (w.guestPhysical !== undefined && vm) {
    if (w.paged) line('note', 'guest-physical address ', at(w.guestPhysical, 'guest-physical'), `${pageNote(w.guestPhysical, m.guestRamBase)}; the VMM's pmap gives its host frame:`);
    else line('note', 'the VMM\'s pmap gives the host frame of ', at(w.guestPhysical, 'guest-physical'), ':');
    lines.push(...pmapLines(finalPmap, w.guestPhysical, m, 0));
    refs += finalPmap.length;
  }
  if (w.fault === 0) {
    if (w.hostPhysical !== undefined) {
      const via: Seg[] = vm && w.guestPhysical !== undefined ? [' (', at(w.guestPhysical, 'guest-physical'), ')'] : [];
      line('result', 'result: ', at(w.hostPhysical, sp.hpa), `${pageNote(w.hostPhysical, m.hostRamBase, vm ? 'host frame' : 'page')}`, ...via);
    } else if (w.guestPhysical !== undefined) {
      line('result', 'result: ', at(w.guestPhysical, sp.gpa), w.device
        ? ` is the ${w.device} device, not RAM: ${vm ? 'the access traps to the VMM, which emulates the device' : 'the bus sends it to the device'}`
        : ' is not RAM: the access would raise an access fault');
    }
  }
  if (vm && w.paged && m.mode !== 'hw') {
    line('note', `${refs} memory references for this translation${m.mode === 'emulate' ? ': the VMM makes them in software on every TLB miss of the virtual hart' : ''}.`);
  }
  if (m.mode === 'trap' || m.mode === 'bt' || m.mode === 'pv') lines.push(...shadowLines(w, m));
  if (m.mode === 'hw' && w.references) lines.push(...hardwareLines(w, w.references, m));
  lines.splice(1, 0, { kind: 'summary', depth: 0, segs: summary(w, m) });
  return lines;
}

/** The outcome in one line, shown first: where the access lands, or the fault it raises. */
function summary(w: WalkInfo, m: WalkMachine): Seg[] {
  const sp = spaces(m.mode);
  if (w.fault !== 0) return [`→ ${faultName(w.fault)}`];
  const out: Seg[] = [];
  const to = (s: Seg): void => void out.push(out.length > 0 ? ' → ' : '→ ', s);
  if (m.mode !== 'bare' && w.guestPhysical !== undefined) to(at(w.guestPhysical, 'guest-physical'));
  if (w.hostPhysical !== undefined) {
    to(at(w.hostPhysical, sp.hpa));
    return out;
  }
  if (m.mode === 'bare' && w.guestPhysical !== undefined) to(at(w.guestPhysical, sp.gpa));
  out.push(w.device ? `: the ${w.device} device` : ': not RAM');
  return out;
}

/** Trap mode: the walk the physical hart really does, through the shadow of the walk's context. */
function shadowLines(w: WalkInfo, m: WalkMachine): WalkLine[] {
  const lines: WalkLine[] = [];
  const line = (kind: WalkLine['kind'], ...segs: Seg[]): void => void lines.push({ kind, depth: 0, segs });
  const sh = w.shadow;
  if (!sh) {
    line('note', `The hardware walks a shadow table, but the VMM has not built one for ${PRIV[w.priv]}-mode with this satp yet: it builds it when the guest first runs so.`);
    return lines;
  }
  line('head', `what the hardware walks: ${sh.label}`);
  for (const s of sh.steps) {
    line('step', `shadow level ${s.level}, entry 0x${entryIndex(w.va, s.level).toString(16)} at `, at(s.pteAddress, 'host-physical', true), ' ', ...pteSegs(s.pte, s.level, 'host-physical', m.hostRamBase, 'host-physical', true));
  }
  if (sh.fault === 0 && sh.hostPhysical !== undefined) {
    line('result', 'the hart reaches ', at(sh.hostPhysical, 'host-physical'), ` in ${sh.steps.length} references, without a trap${sh.hostPhysical === w.hostPhysical ? ': the same host address as the walk above' : ''}.`);
  } else if (w.fault !== 0) {
    line('note', `the shadow has no entry either: the hart's fault goes to the VMM, which finds the guest's table refuses the access and reflects the ${faultName(w.fault)} to the guest's trap handler.`);
  } else if (w.access === 'store' && w.guestPhysical !== undefined && m.writeProtected.includes(Math.floor(w.guestPhysical / 4096) * 4096)) {
    line('note', 'this page holds the guest\'s page tables, which the VMM write-protects in the shadow: the store traps to the VMM, which makes it and updates the shadow entries derived from it.');
  } else {
    line('note', `the shadow has no entry for this page yet: the hart raises a ${faultName(sh.fault)} that goes to the VMM, which walks the guest table and the pmap as above, fills the shadow entry and retries. The guest never sees this fault.`);
  }
  return lines;
}

const PURPOSE: Record<WalkReferenceInfo['purpose'], string> = {
  'guest-pte': 'guest table (VS-stage)',
  'pmap-for-pte': 'pmap (G-stage) locating the guest PTE',
  'pmap-final': 'pmap (G-stage) of the final address',
};

/**
 * hw mode: the two-dimensional walk the physical hart makes on a TLB miss (privileged spec §8.5),
 * reference by reference: each guest PTE's guest-physical address goes through the pmap first,
 * then the PTE is read; the final guest-physical address goes through the pmap last; A/D updates
 * are writes of their own.
 */
function hardwareLines(w: WalkInfo, refs: WalkReferenceInfo[], m: WalkMachine): WalkLine[] {
  const lines: WalkLine[] = [];
  const line = (kind: WalkLine['kind'], ...segs: Seg[]): void => void lines.push({ kind, depth: 0, segs });
  line('head', 'what the hardware walks: the two-dimensional walk (vsatp over hgatp)');
  for (const r of refs) {
    const table = r.stage === 'guest' ? `guest level ${r.level}` : `pmap level ${r.level}`;
    const what: Seg[] = [`${PURPOSE[r.purpose]}, ${table} for `, at(r.input, r.inputSpace), ': entry at ', at(r.pteAddress, r.pteSpace, r.stage === 'pmap')];
    if (r.pteSpace !== 'host-physical') what.push(' = ', at(r.hostAddress, 'host-physical'));
    if (r.write) line('ref', ...what, ` ← writes ${hex(r.value)} ${flagLetters(r.value)} (the A/D update)`);
    else line('ref', ...what, ' ', ...pteSegs(r.value, r.level, r.stage === 'guest' ? 'guest-physical' : 'host-physical', r.stage === 'guest' ? m.guestRamBase : m.hostRamBase, r.stage === 'guest' ? 'guest-physical' : 'host-physical', r.stage === 'pmap'));
  }
  const writes = refs.filter((r) => r.write).length;
  line('note', `${refs.length} memory references by the hart (${refs.length - writes} PTE reads, ${writes} A/D writes; at most 12 for Sv32 over Sv32x4), with no exit to the VMM${w.fault >= 20 ? ' until the guest-page fault' : ''}; the TLB then caches the combined translation under the VM's VMID.`);
  return lines;
}
