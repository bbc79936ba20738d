// Per-VM statistics (docs/vmm.md), always on: plain counters bumped on the VMM's slow paths, never in
// the guest's hot loop. The cost model turns them into modeled cycles so the techniques can be
// compared on one deterministic scale; the defaults and their sources are in docs/vmm.md.

/** Counters of one VM. */
export class VmStats {
  /** Retired guest instructions by the guest's (virtual) privilege: index 0 = U, 1 = S, 3 = M. */
  readonly retired = [0, 0, 0, 0];
  /** Exits to the VMM by cause (exceptions 0..31, interrupts 32 + n), in trap mode. */
  readonly exits = new Float64Array(64);
  /** Instructions the VMM emulated, by kind. */
  readonly emulated: Record<string, number> = {};
  /** Exceptions and interrupts reflected into the guest, by cause (interrupts as "irqN"). */
  readonly reflected: Record<string, number> = {};
  shadowFills = 0;
  shadowSyncs = 0;
  shadowFlushes = 0;
  writeProtectFaults = 0;
  /** Guest loads and stores the hardware TLB served without a walk or an exit. */
  tlbHits = 0;
  tlbMisses = 0;
  /** Trap mode: the physical hart's TLB misses (hardware walks of the shadow) while this VM ran. */
  hartTlbMisses = 0;
  /** Memory references made by page walks (guest tables, pmap, shadow). */
  walkReferences = 0;
  translatedBlocks = 0;
  translationHits = 0;
  translationInvalidations = 0;
  /** bt: calls of the VMM's emulation routines from translated code, in total and by kind. */
  callouts = 0;
  readonly calloutKinds: Record<string, number> = {};
  /** bt: jumps from one translated block straight into the next, without a cache lookup. */
  chainedJumps = 0;
  /** SBI and pv hypercalls by function (`sbi.<extension>.<function>`, `pv.<function>`). */
  readonly hypercalls: Record<string, number> = {};
  /** pv: hypercalls the VMM refused (and guest stores to table pages, csrw satp), changing nothing. */
  pvRefused = 0;
  /** pv: page-table entries written through mmu_update batches. */
  pvPteUpdates = 0;
  deviceAccesses = 0;
  /** Host wall time spent running this VM, in milliseconds. */
  wallMs = 0;

  /** Zeroes every counter (a reset by the user); holders of this object keep counting into it. */
  clear(): void {
    this.retired.fill(0);
    this.exits.fill(0);
    for (const record of [this.emulated, this.reflected, this.hypercalls, this.calloutKinds]) for (const k of Object.keys(record)) delete record[k];
    this.shadowFills = this.shadowSyncs = this.shadowFlushes = this.writeProtectFaults = 0;
    this.tlbHits = this.tlbMisses = this.hartTlbMisses = this.walkReferences = 0;
    this.translatedBlocks = this.translationHits = this.translationInvalidations = this.callouts = this.chainedJumps = 0;
    this.pvRefused = this.pvPteUpdates = 0;
    this.deviceAccesses = 0;
    this.wallMs = 0;
  }

  /** Counts `n` (default 1) emulated instructions of `kind`. */
  emulate(kind: string, n = 1): void {
    this.emulated[kind] = (this.emulated[kind] ?? 0) + n;
  }

  /** Counts one reflected trap. */
  reflect(kind: string): void {
    this.reflected[kind] = (this.reflected[kind] ?? 0) + 1;
  }

  /** Total retired guest instructions. */
  get instructions(): number {
    return this.retired[0] + this.retired[1] + this.retired[3];
  }

  /** Total exits to the VMM. */
  get exitCount(): number {
    let n = 0;
    for (const v of this.exits) n += v;
    return n;
  }

  /** A plain JSON-ready copy. */
  toJSON(): Record<string, unknown> {
    const exits: Record<string, number> = {};
    this.exits.forEach((v, i) => {
      if (v > 0) exits[i >= 32 ? `interrupt${i - 32}` : `exception${i}`] = v;
    });
    return {
      instructions: this.instructions,
      retired: { user: this.retired[0], supervisor: this.retired[1], machine: this.retired[3] },
      exits,
      exitCount: this.exitCount,
      emulated: { ...this.emulated },
      reflected: { ...this.reflected },
      shadow: { fills: this.shadowFills, syncs: this.shadowSyncs, flushes: this.shadowFlushes, writeProtectFaults: this.writeProtectFaults },
      tlb: { hits: this.tlbHits, misses: this.tlbMisses, walkReferences: this.walkReferences },
      translation: {
        blocks: this.translatedBlocks, hits: this.translationHits, invalidations: this.translationInvalidations, callouts: this.callouts,
        calloutKinds: { ...this.calloutKinds }, chainedJumps: this.chainedJumps,
      },
      hypercalls: { ...this.hypercalls },
      pv: { refused: this.pvRefused, pteUpdates: this.pvPteUpdates },
      deviceAccesses: this.deviceAccesses,
      wallMs: this.wallMs,
    };
  }
}

/** Cycles charged per event; see docs/vmm.md for the source of each default. */
export interface CostModel {
  nativeInstruction: number;
  interpretedInstruction: number;
  exit: number;
  emulatedInstruction: number;
  reflectedTrap: number;
  shadowFill: number;
  shadowSync: number;
  shadowFlush: number;
  walkReference: number;
  deviceAccess: number;
  hypercall: number;
  translatedBlock: number;
  callout: number;
}

/** Default costs (cycles). */
export const DEFAULT_COSTS: Readonly<CostModel> = {
  nativeInstruction: 1,
  interpretedInstruction: 30,
  exit: 1000,
  emulatedInstruction: 200,
  reflectedTrap: 300,
  shadowFill: 1500,
  shadowSync: 3000,
  shadowFlush: 5000,
  walkReference: 20,
  deviceAccess: 4000,
  hypercall: 800,
  translatedBlock: 3000,
  callout: 40,
};

/** Modeled cycles by event kind and in total. */
export interface ModeledCycles {
  total: number;
  breakdown: Record<string, number>;
}

/** Converts a VM's counters into modeled cycles; `interpreted` when every instruction was emulated. */
export function modeledCycles(stats: VmStats, interpreted: boolean, costs: CostModel = DEFAULT_COSTS): ModeledCycles {
  // Interpreted instructions are charged as instructions; the ROM is part of the machine's boot.
  let emulated = 0;
  // hw interprets the guest's virtual M-mode: those instructions cost as interpreted ones.
  for (const [kind, v] of Object.entries(stats.emulated)) if (kind !== 'interpreted' && kind !== 'boot-rom' && kind !== 'virtual-m') emulated += v;
  const virtualM = interpreted ? 0 : (stats.emulated['virtual-m'] ?? 0);
  let reflected = 0;
  for (const v of Object.values(stats.reflected)) reflected += v;
  let hypercalls = 0;
  for (const v of Object.values(stats.hypercalls)) hypercalls += v;
  const breakdown: Record<string, number> = {
    instructions: stats.instructions * (interpreted ? costs.interpretedInstruction : costs.nativeInstruction) +
      virtualM * (costs.interpretedInstruction - costs.nativeInstruction),
    exits: stats.exitCount * costs.exit,
    emulation: emulated * costs.emulatedInstruction,
    reflection: reflected * costs.reflectedTrap,
    shadowFills: stats.shadowFills * costs.shadowFill,
    shadowSyncs: stats.shadowSyncs * costs.shadowSync,
    shadowFlushes: stats.shadowFlushes * costs.shadowFlush,
    pageWalks: stats.walkReferences * costs.walkReference,
    devices: stats.deviceAccesses * costs.deviceAccess,
    hypercalls: hypercalls * costs.hypercall,
    translation: stats.translatedBlocks * costs.translatedBlock + stats.callouts * costs.callout,
  };
  let total = 0;
  for (const v of Object.values(breakdown)) total += v;
  return { total, breakdown };
}
