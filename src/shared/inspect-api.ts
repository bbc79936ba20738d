// The inspector part of the LabApi (issue #7, "Seeing virtualization"): the page tables of a machine
// in their layers (guest table, pmap, shadows), one table page at a time; the two-dimensional
// translation of one address; the TLB; a bt-mode VM's translation cache; statistics ticks; and the
// compare view's runs. Large lists (table entries, TLB slots, translated blocks) travel as packed
// little-endian Uint32 words in a Uint8Array, so they cross the API as bytes instead of as thousands
// of JSON objects.

import type { DiskAttachmentConfig } from './disk-api';
import type { AddressSpace, CpuOptions, MachineMode, VmStatsInfo } from './lab-api';

/** Which table: the guest's (GVA → GPA), the pmap (GPA → HPA), a trap-mode shadow (GVA → HPA), or a bare machine's (VA → PA). */
export type PageTableKind = 'guest' | 'pmap' | 'shadow' | 'machine';

/** One table tree of a machine. */
export interface PageTableInfo {
  readonly kind: PageTableKind;
  /** Names the table in vm.tablePage ('guest', 'pmap', 'machine', or a shadow's context key). */
  readonly key: string;
  /** What the table is, in words. */
  readonly label: string;
  /** Whether the hardware walks this table for the guest's current context. */
  readonly active: boolean;
  /** Address of the root table page, in `tableSpace`. */
  readonly root: number;
  /** Index bits of the root level: 10 (Sv32) or 12 (the pmap's Sv32x4 root of 16 KiB). */
  readonly rootBits: number;
  /** Where the table's own pages live, and what it maps from and to. */
  readonly tableSpace: AddressSpace;
  readonly from: AddressSpace;
  readonly to: AddressSpace;
}

/** Every table of a machine, and how its hardware translates right now. */
export interface PageTablesInfo {
  readonly mode: MachineMode;
  /** The guest's (or bare machine's) satp and privilege. */
  readonly satp: number;
  readonly priv: number;
  readonly tables: PageTableInfo[];
  /** What the hardware walks for this guest now, in words (emulate: the guest table, then the pmap, in software). */
  readonly hardware: string;
  /** Guest-physical pages holding guest page tables that the VMM write-protects in the shadows (trap mode). */
  readonly writeProtected: number[];
  /** First byte of guest RAM and of host RAM, for page numbers counted from the start of RAM. */
  readonly guestRamBase: number;
  readonly hostRamBase: number;
}

/** One table page: its valid entries as (index, pte) pairs of little-endian Uint32 words. */
export interface TablePageInfo {
  readonly table: string;
  /** Address of the page in the table's space. */
  readonly address: number;
  /** 1: the root; 0: a level-0 table. */
  readonly level: number;
  /** First input address the page covers, and the bytes each entry covers. */
  readonly from: number;
  readonly span: number;
  /** Whether the page could be read at all. */
  readonly readable: boolean;
  /** Whether this is a guest page-table page the VMM write-protects (trap mode). */
  readonly writeProtected: boolean;
  /** Valid entries: [index, pte] as pairs of Uint32 (little-endian), in index order. */
  readonly entries: Uint8Array;
}

/** An access type for a translation. */
export type AccessKind = 'fetch' | 'load' | 'store';

/** One PTE read of a walk. */
export interface WalkStepInfo {
  /** Which table the PTE belongs to. */
  readonly stage: PageTableKind;
  readonly level: number;
  /** The PTE's address in its table's space, and in host-physical space (absent where it has none). */
  readonly pteAddress: number;
  readonly pteHostAddress?: number;
  readonly pte: number;
  /** For a guest-table step: the pmap walk that found this PTE in host memory. */
  readonly nested: WalkStepInfo[];
}

/** A guest-virtual address translated through every layer, with every PTE read. */
export interface WalkInfo {
  readonly va: number;
  readonly access: AccessKind;
  /** The privilege the walk checked (0 U, 1 S, 3 M) and whether translation was on. */
  readonly priv: number;
  readonly paged: boolean;
  /** The address in each space where the walk got that far. */
  readonly guestPhysical?: number;
  readonly hostPhysical?: number;
  /** The exception the access would raise (0: none), and the table that raised it. */
  readonly fault: number;
  readonly faultStage?: PageTableKind;
  /** The device a guest-physical address reaches when it is not RAM. */
  readonly device?: string;
  /** Guest-table steps (each with its nested pmap walk), then the pmap walk of the result. */
  readonly steps: WalkStepInfo[];
  /**
   * Trap mode: the walk of the shadow for the walk's context (privilege, satp), which the physical
   * hart does in one go; absent while the VMM has not built that shadow. `table` is its key.
   */
  readonly shadow?: { readonly table: string; readonly label: string; readonly hostPhysical?: number; readonly fault: number; readonly steps: WalkStepInfo[] };
  /**
   * hw mode (guest below M): every memory reference of the physical hart's two-stage walk on a TLB
   * miss, in order (up to 12 for Sv32 over Sv32x4: 8 PTE reads and 4 A/D writes).
   */
  readonly references?: WalkReferenceInfo[];
}

/** One memory reference of the hardware's two-dimensional walk (hw mode). */
export interface WalkReferenceInfo {
  /** The guest's table (VS-stage) or the pmap (G-stage). */
  readonly stage: 'guest' | 'pmap';
  /** A guest PTE, the pmap walk that locates a guest PTE, or the pmap walk of the final guest-physical address. */
  readonly purpose: 'guest-pte' | 'pmap-for-pte' | 'pmap-final';
  readonly level: number;
  /** The address being translated, in its space (guest-virtual for a guest PTE, guest-physical for a pmap PTE). */
  readonly input: number;
  readonly inputSpace: AddressSpace;
  /** The PTE's address in its table's space (guest-physical or host-physical), and in host-physical memory. */
  readonly pteAddress: number;
  readonly pteSpace: AddressSpace;
  readonly hostAddress: number;
  /** The PTE read, or the PTE an A/D update writes. */
  readonly value: number;
  readonly write: boolean;
}

/** Words per TLB entry in TlbInfo.entries. */
export const TLB_ENTRY_WORDS = 7;

/** TablePageInfo.entries unpacked: [index, pte] pairs in index order. */
export function unpackTableEntries(bytes: Uint8Array): [number, number][] {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: [number, number][] = [];
  for (let i = 0; i + 8 <= bytes.byteLength; i += 8) out.push([v.getUint32(i, true), v.getUint32(i + 4, true)]);
  return out;
}

/** One valid TLB slot, unpacked from TlbInfo.entries. */
export interface TlbEntryInfo {
  readonly slot: number;
  readonly vpn: number;
  /** Privilege the entry was filled for (0 U, 1 S, 3 M), and whether translation was off. */
  readonly priv: number;
  readonly bare: boolean;
  readonly read: boolean;
  readonly write: boolean;
  readonly exec: boolean;
  readonly asid: number;
  readonly pte: number;
  readonly level: number;
  readonly ppn: number;
  /** A combined two-stage translation of a guest (hw mode: guest-virtual page → host frame), and its VMID. */
  readonly virt: boolean;
  readonly vmid: number;
}

/** TlbInfo.entries unpacked: one entry per valid slot. */
export function unpackTlbEntries(bytes: Uint8Array): TlbEntryInfo[] {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: TlbEntryInfo[] = [];
  for (let o = 0; o + TLB_ENTRY_WORDS * 4 <= bytes.byteLength; o += TLB_ENTRY_WORDS * 4) {
    const word = (i: number): number => v.getUint32(o + i * 4, true);
    const ctx = word(2);
    out.push({
      slot: word(0), vpn: word(1), priv: ctx & 3, bare: (ctx & 4) !== 0, read: (ctx & 8) !== 0, write: (ctx & 16) !== 0, exec: (ctx & 32) !== 0,
      asid: word(3), pte: word(4), level: word(5), ppn: word(6), virt: (ctx & 64) !== 0, vmid: (ctx >>> 7) & 0x7f,
    });
  }
  return out;
}

/** A TLB's contents and counters. */
export interface TlbInfo {
  /** Which TLB: a VM's virtual hart (emulate), the physical hart (trap; hw: the H-capable hart), or a bare machine's hart. */
  readonly source: 'virtual hart' | 'physical hart' | 'machine';
  /** What the entries mean for this VM (e.g. whether the physical TLB holds its translations now). */
  readonly note: string;
  /** Whether the entries belong to this machine (false: another VM was on the physical hart last). */
  readonly holdsThisVm: boolean;
  readonly hits: number;
  readonly misses: number;
  readonly flushes: number;
  readonly size: number;
  /**
   * Valid slots, TLB_ENTRY_WORDS little-endian Uint32 each: slot, vpn, context (priv | bare << 2 |
   * read << 3 | write << 4 | exec << 5 | virt << 6 | vmid << 7), asid, pte, level, ppn. Empty when
   * they are another VM's.
   */
  readonly entries: Uint8Array;
  /** The last flushes, oldest first. */
  readonly flushHistory: { readonly seq: number; readonly kind: 'all' | 'translated'; readonly va?: number; readonly asid?: number }[];
}

/** Words per translated block in TranslationsInfo.blocks. */
export const BT_BLOCK_WORDS = 8;

/** One translated block of a bt-mode VM, unpacked from TranslationsInfo.blocks. */
export interface TranslatedBlockInfo {
  /** Guest-physical address of its first instruction (with `priv`, the cache's key). */
  readonly gpa: number;
  /** Guest-virtual pc it was translated at. */
  readonly pc: number;
  /** Virtual privilege it was translated for (1 S, 3 M). */
  readonly priv: number;
  /** Guest instructions (a callout counts) and bytes of guest code. */
  readonly length: number;
  readonly bytes: number;
  /** Times the dispatcher ran it: right after its translation, found by a lookup, or through a chained jump. */
  readonly hits: number;
  /** The last callout it holds: the one that ends it, or a CSR access or rdpriv it goes on after (an index into TranslationsInfo.calloutNames), or -1. */
  readonly callout: number;
  /** Guest-physical address of the block it is chained to (it jumped there last, without a lookup), or -1. */
  readonly chain: number;
}

/** TranslationsInfo.blocks unpacked. */
export function unpackTranslatedBlocks(bytes: Uint8Array): TranslatedBlockInfo[] {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: TranslatedBlockInfo[] = [];
  for (let o = 0; o + BT_BLOCK_WORDS * 4 <= bytes.byteLength; o += BT_BLOCK_WORDS * 4) {
    const word = (i: number): number => v.getUint32(o + i * 4, true);
    out.push({
      gpa: word(0), pc: word(1), priv: word(2), length: word(3), bytes: word(4), hits: word(5),
      callout: word(6) === 0xffffffff ? -1 : word(6), chain: word(7) === 0xffffffff ? -1 : word(7),
    });
  }
  return out;
}

/** One invalidation of translated code: which write dropped which blocks, and when. */
export interface InvalidationInfo {
  /** The guest's clock (its steps: instructions and traps) when it happened, and the instructions it had retired. */
  readonly step: number;
  readonly instret: number;
  /** Guest-virtual pc of the store that wrote the code (absent for DMA and reset). */
  readonly pc?: number;
  /** A guest store into translated code, a device's DMA, or a reboot (which drops every block). */
  readonly cause: 'store' | 'dma' | 'reset';
  /** Guest-physical address and length of the write (0 for a reset). */
  readonly gpa: number;
  readonly length: number;
  /** Guest-physical addresses of the blocks dropped (empty for a reset: all of them). */
  readonly blocks: number[];
}

/** A bt-mode VM's translation cache. */
export interface TranslationsInfo {
  /** The guest's clock now, in steps (to place the invalidations). */
  readonly step: number;
  /**
   * Live blocks in guest-physical order, BT_BLOCK_WORDS little-endian Uint32 each: gpa, pc, priv,
   * length, bytes, hits, callout (0xffffffff: none), chain (0xffffffff: none).
   */
  readonly blocks: Uint8Array;
  /** Names of the callout kinds, as the statistics count them. */
  readonly calloutNames: string[];
  /** The last invalidations, oldest first. */
  readonly invalidations: InvalidationInfo[];
  /** How many invalidations the history can hold. */
  readonly historySize: number;
  /** Guest-physical pages that hold translated code (the VMM write-protects them). */
  readonly codePages: number[];
}

/** One guest instruction of a translated block beside the JavaScript it became. */
export interface TranslatedInsnInfo {
  readonly pc: number;
  /** Its encoding, in hex (4 digits for a compressed instruction). */
  readonly hex: string;
  /** The instruction, as the disassembler prints it. */
  readonly text: string;
  /** The generated code (empty for an instruction that needs none, such as fence.i). */
  readonly code: string;
  /** The callout it became (a name of TranslationsInfo.calloutNames), if it is sensitive. */
  readonly callout?: string;
}

/** One translated block with its guest instructions and its generated function. */
export interface TranslatedBlockDetail extends TranslatedBlockInfo {
  readonly insns: TranslatedInsnInfo[];
  /** The whole generated function body. */
  readonly source: string;
}

/** Largest disk a comparison copies into memory for its runs (each run boots a fresh copy): 64 MiB. */
export const MAX_COMPARE_DISK = 64 << 20;

/**
 * Why a comparison cannot take a disk whose guest sees `size` bytes, or undefined when it can: the
 * host's refusal and the compare view's note on the image, in the same words.
 */
export function compareDiskRefusal(size: number): string | undefined {
  return size > MAX_COMPARE_DISK ? `a comparison copies at most ${MAX_COMPARE_DISK >>> 20} MiB of disk into memory, the image has ${size} bytes` : undefined;
}

/** Parameters of compare.run. */
export interface CompareConfig {
  /** Workspace path of the kernel (.S is assembled first, or an ELF / raw image). */
  kernel: string;
  /** More kernels run with the same options after it; every row is then relative to the first kernel's first row. */
  kernels?: string[];
  /** Disks of every run, as vm.create's; each run boots a fresh in-memory copy of each image, which stays unchanged. */
  disks?: DiskAttachmentConfig[];
  /** Guest RAM in bytes (default 16 MiB). */
  memSize?: number;
  /** Step budget of each run (default 20 million). */
  maxSteps?: number;
  /** Text typed into the guest's console before it starts. */
  input?: string;
  /** Default: bare, emulate, trap. */
  modes?: MachineMode[];
  cpu?: CpuOptions;
  /** Firmware (workspace path), 'none' or 'sbi', as vm.create's bios. */
  bios?: string;
  /** Workspace path of an initial ramdisk, as vm.create's initrd. */
  initrd?: string;
  /** Kernel command line, as vm.create's append. */
  append?: string;
  /** Workspace path of the kernel written for pv mode, run in the pv row (needed when modes has pv). */
  pvKernel?: string;
}

/** One mode's figures of a comparison. */
export interface CompareRowInfo {
  /** The kernel of this row (CompareConfig.kernel or one of its kernels). */
  readonly kernel: string;
  readonly mode: MachineMode;
  /** How the run ended: 'exit', 'budget', 'idle' or 'crashed'. */
  readonly end: string;
  readonly exitCode: number | null;
  readonly crashReason?: string;
  readonly instructions: number;
  /** Traps the guest took (the same in every mode: they are the kernel's own). */
  readonly traps: number;
  readonly exits: number;
  readonly modeledCycles: number;
  /** Modeled cycles by event kind. */
  readonly breakdown: Record<string, number>;
  readonly wallMs: number;
  /** Each figure divided by bare's, or with several kernels by the first row's (null without it or when it is 0). */
  readonly relative: { readonly instructions: number | null; readonly exits: number | null; readonly modeledCycles: number | null; readonly wallMs: number | null };
  /** Whether the console output equals bare's (several kernels: the first row's), and the output (at most 16 KiB). */
  readonly sameOutput: boolean;
  readonly output: string;
}

/** A finished comparison. */
export interface CompareResult {
  readonly kernel: string;
  readonly memSize: number;
  readonly maxSteps: number;
  readonly rows: CompareRowInfo[];
}

/**
 * The comparison the host runs and the last one it finished, for a page that was loaded while one
 * ran (its result goes to the page that asked, and to every page as compare.done).
 */
export interface CompareState {
  /** The comparison running now, and since when (ms since the epoch). */
  readonly running?: { readonly config: CompareConfig; readonly since: number };
  /** The last comparison that ended: its result, or why it gave none. */
  readonly last?: { readonly config: CompareConfig; readonly result?: CompareResult; readonly error?: string };
}

/** The inspector requests: method name → [params, result]. */
export interface InspectMethods {
  /** Every page table of a machine (guest table, pmap, shadows; a bare machine's one table). */
  'vm.pageTables': [{ id: string }, PageTablesInfo];
  /** One page of table `table`: the root, or the level-0 table that root entry `index` points to. */
  'vm.tablePage': [{ id: string; table: string; index?: number }, TablePageInfo];
  /** Translates a guest-virtual address through every layer (privilege default: the guest's own). */
  'vm.walk': [{ id: string; address: number; access?: AccessKind; priv?: 0 | 1 | 3 }, WalkInfo];
  /** The TLB the machine's translations are cached in, with counters and flush history. */
  'vm.tlb': [{ id: string }, TlbInfo];
  /** A bt-mode VM's translation cache: its live blocks, and the last invalidations. */
  'vm.translations': [{ id: string }, TranslationsInfo];
  /** One translated block (the cache's key: guest-physical address and virtual privilege) with its guest and generated code. */
  'vm.translationBlock': [{ id: string; gpa: number; priv: 1 | 3 }, TranslatedBlockDetail];
  /** Runs a workspace kernel bare and in each VMM mode (in a worker of its own). */
  'compare.run': [CompareConfig, CompareResult];
  /** Stops a comparison that is running (it then fails with 'cancelled'). */
  'compare.cancel': [Record<string, never>, Record<string, never>];
  /** The comparison running and the last one finished (a reloaded page shows them). */
  'compare.state': [Record<string, never>, CompareState];
}

/** Every inspector method name. */
export const INSPECT_METHODS: readonly (keyof InspectMethods)[] = ['vm.pageTables', 'vm.tablePage', 'vm.walk', 'vm.tlb', 'vm.translations', 'vm.translationBlock', 'compare.run', 'compare.cancel', 'compare.state'];

/** The inspector events. */
export interface InspectEvents {
  /** A VM's statistics, about once a second while it runs and once when it stops. */
  'vm.statsTick': { id: string; t: number; stats: VmStatsInfo };
  /** A comparison ended (its result or error in `last`), sent to every page. */
  'compare.done': CompareState;
}

/** Every inspector event name. */
export const INSPECT_EVENTS: readonly (keyof InspectEvents)[] = ['vm.statsTick', 'compare.done'];
