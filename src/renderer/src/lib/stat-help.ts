// What each of a VM's counters counts, in the words shown beside it (tooltips of the VM statistics
// pane, the Statistics and TLB views). Some counters mean different things in the two modes: in
// trap mode the guest runs on the physical hart, whose TLB serves every VM in turn.

import type { MachineMode } from '../../../shared/lab-api';

/** A counter's key, as the Statistics view names its rows. */
export type StatKey =
  | 'instructions' | 'retired' | 'interpreted' | 'exits' | 'emulated' | 'reflected'
  | 'shadow.fills' | 'shadow.syncs' | 'shadow.flushes' | 'shadow.writeProtectFaults'
  | 'tlb.hits' | 'tlb.misses' | 'tlb.walkReferences'
  | 'translation.blocks' | 'translation.hits' | 'translation.invalidations' | 'translation.callouts' | 'translation.chainedJumps'
  | 'hypercalls' | 'pv.refused' | 'pv.pteUpdates' | 'deviceAccesses' | 'modeledCycles' | 'wallMs';

const COMMON: Record<StatKey, string> = {
  instructions: 'Guest instructions retired, by the privilege the guest believes it runs in (its virtual privilege). The boot ROM before the kernel is not counted.',
  retired: 'Guest instructions retired in this virtual privilege.',
  interpreted: 'emulate: every guest instruction, carried out one by one by the VMM\'s interpreter on the virtual hart.',
  exits: 'trap: traps of the guest on the physical hart that came to the VMM (privileged instructions, device accesses, page faults the shadow cannot serve yet, ecalls), by cause. emulate: none, the VMM sees every instruction without trapping.',
  emulated: 'Guest instructions the VMM carried out on the guest\'s behalf after an exit: CSR accesses, sret, mret, wfi, sfence.vma, device loads and stores, stores into the guest\'s page-table pages.',
  reflected: 'Traps the VMM delivered into the guest kernel as the hardware would have (sepc, scause, stval set, jump to stvec): the guest\'s own ecalls and faults.',
  'shadow.fills': 'trap: shadow page-table entries built (guest-virtual page → host frame, from the guest\'s table and the pmap) when the physical hart faulted on a page the shadow did not map yet.',
  'shadow.syncs': 'trap: single shadow entries dropped because the guest changed the PTE they came from, or invalidated one page with sfence.vma.',
  'shadow.flushes': 'trap: every shadow emptied at once (sfence.vma of everything, a write to a page of unknown role).',
  'shadow.writeProtectFaults': 'trap: guest stores into its own page-table pages, which every shadow maps read-only so the VMM sees each change; each is emulated, then the shadows are synced.',
  'tlb.hits': '',
  'tlb.misses': '',
  'tlb.walkReferences': '',
  'translation.blocks': 'bt: blocks of guest-kernel code the VMM translated into host code (up to a control transfer, a sensitive instruction or the end of the page).',
  'translation.hits': 'bt: times the VMM found the block at the guest\'s pc in its translation cache (by guest-physical address and virtual privilege) instead of translating it.',
  'translation.invalidations': 'bt: translated blocks dropped because the guest (or a disk\'s DMA) wrote over their code; pages holding translated code are write-protected so the VMM sees every such store.',
  'translation.callouts': 'bt: sensitive instructions of the translated kernel (CSR accesses, xRET, WFI, SFENCE.VMA, ecall, rdpriv, setsie, touser) that became calls of the VMM\'s emulation routines: no trap, no exit.',
  'translation.chainedJumps': 'bt: jumps from one translated block straight into the next without looking the cache up.',
  hypercalls: 'Calls of the guest into the VMM by the hypercall ABI, by function: the SBI\'s (sbi.*, a kernel booted with the built-in SBI) and pv mode\'s own (pv.*).',
  'pv.refused': 'pv: hypercalls the VMM refused because they broke a rule (a foreign frame, a writable page-table page, a malformed entry, a transfer beyond the disk, ...), and guest stores to its page-table pages; a refusal changes nothing.',
  'pv.pteUpdates': 'pv: page-table entries written through mmu_update batches, each validated by the VMM; there are no write-protection faults in pv.',
  deviceAccesses: 'Guest loads and stores to devices (UART, CLINT, PLIC, test finisher, virtio), each emulated by the VMM; the boot ROM\'s reads are the machine\'s, not the guest\'s.',
  modeledCycles: 'Each event above times its cost in the cost model of docs/vmm.md, summed: deterministic, the figure to compare the techniques with.',
  wallMs: 'Host time spent running this VM (its slices of the round robin, the VMM\'s work for it included). It varies with the host and its load.',
};

const TLB: Record<'emulate' | 'trap', Record<'tlb.hits' | 'tlb.misses' | 'tlb.walkReferences', string>> = {
  emulate: {
    'tlb.hits': 'emulate: guest loads and stores the virtual hart\'s software TLB served without a walk (guest-virtual page → guest-physical page; fetches are not counted).',
    'tlb.misses': 'emulate: misses of the virtual hart\'s TLB, each a two-stage walk in software: the guest\'s table, every guest PTE address and the result translated through the pmap.',
    'tlb.walkReferences': 'emulate: memory references of those walks, 8 per miss (two guest levels, each PTE and the final address through the two-level pmap).',
  },
  trap: {
    'tlb.hits': 'trap: guest loads and stores the physical hart\'s TLB served without a walk or an exit, counted only while this VM held the hart (the TLB serves every trap-mode VM in turn; fetches are not counted).',
    'tlb.misses': 'trap: walks of the guest\'s own page table the VMM made in software, to fill a shadow entry or emulate an access. 0 while the guest runs with paging off: its shadow fills then need no guest walk. The physical hart\'s own misses (hardware walks of the shadow) are in the TLB view.',
    'tlb.walkReferences': 'trap: guest PTEs read by those software walks.',
  },
};

/** The explanation of counter `key` for a VM of `mode` (bare machines keep no VM statistics). */
export function statHelp(key: StatKey, mode: MachineMode): string {
  if (key.startsWith('tlb.')) return TLB[mode === 'trap' || mode === 'bt' || mode === 'pv' ? 'trap' : 'emulate'][key as keyof (typeof TLB)['trap']];
  return COMMON[key];
}
