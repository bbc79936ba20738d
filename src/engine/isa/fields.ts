// Operand fields of RV32 instruction formats, described as bit scatters so that one description
// serves decoding (word → value) and encoding (value → word). RISC-V unprivileged spec ch. 2.3, 16.2.

/** One run of bits: value bits [hi:lo] land at instruction bits starting at `at`. */
export type BitRun = readonly [hi: number, lo: number, at: number];

/** How an operand field sits in the instruction word and what values it accepts. */
export interface FieldSpec {
  /** Bit runs, value bit ranges to instruction bit positions. */
  readonly runs: readonly BitRun[];
  /** Sign-extend from the highest value bit when decoding. */
  readonly signed: boolean;
  /** Width of the value in bits (before scaling back), e.g. 13 for B-type offsets. */
  readonly width: number;
  /** Kind of operand for the assembler and disassembler. */
  readonly kind: 'reg' | 'creg' | 'imm' | 'csr' | 'fence' | 'aqrl';
  /** Register field: offset added to a 3-bit compressed register number (8 for x8..x15). */
  readonly regBase?: number;
}

function f(kind: FieldSpec['kind'], signed: boolean, width: number, runs: BitRun[], regBase?: number): FieldSpec {
  return { kind, signed, width, runs, regBase };
}

/** Every operand field used by the instruction table. */
export const FIELDS = {
  rd: f('reg', false, 5, [[4, 0, 7]]),
  rs1: f('reg', false, 5, [[4, 0, 15]]),
  rs2: f('reg', false, 5, [[4, 0, 20]]),
  imm_i: f('imm', true, 12, [[11, 0, 20]]),
  imm_s: f('imm', true, 12, [[11, 5, 25], [4, 0, 7]]),
  imm_b: f('imm', true, 13, [[12, 12, 31], [10, 5, 25], [4, 1, 8], [11, 11, 7]]),
  imm_u: f('imm', false, 20, [[19, 0, 12]]),
  imm_j: f('imm', true, 21, [[20, 20, 31], [10, 1, 21], [11, 11, 20], [19, 12, 12]]),
  shamt: f('imm', false, 5, [[4, 0, 20]]),
  csr: f('csr', false, 12, [[11, 0, 20]]),
  zimm: f('imm', false, 5, [[4, 0, 15]]),
  pred: f('fence', false, 4, [[3, 0, 24]]),
  succ: f('fence', false, 4, [[3, 0, 20]]),
  aqrl: f('aqrl', false, 2, [[1, 0, 25]]),
  // Compressed formats (spec ch. 16.2). c_ prefixed full registers, cp_ prefixed x8..x15 registers.
  c_rd: f('reg', false, 5, [[4, 0, 7]]),
  c_rs2: f('reg', false, 5, [[4, 0, 2]]),
  cp_rd: f('creg', false, 3, [[2, 0, 2]], 8),
  cp_rs1: f('creg', false, 3, [[2, 0, 7]], 8),
  cp_rs2: f('creg', false, 3, [[2, 0, 2]], 8),
  /** CI signed 6-bit immediate (c.addi, c.li, c.andi). */
  c_imm6: f('imm', true, 6, [[5, 5, 12], [4, 0, 2]]),
  /** CI shift amount; bit 12 (shamt[5]) is fixed to 0 on RV32 by the entries' masks. */
  c_shamt: f('imm', false, 5, [[4, 0, 2]]),
  /** c.lui: nzimm[17:12] as the 6-bit signed upper immediate; lui takes its low 20 bits. */
  c_luiimm: f('imm', true, 6, [[5, 5, 12], [4, 0, 2]]),
  /** c.addi16sp: nzimm[9:4]. */
  c_sp16imm: f('imm', true, 10, [[9, 9, 12], [4, 4, 6], [6, 6, 5], [8, 7, 3], [5, 5, 2]]),
  /** c.addi4spn: nzuimm[9:2]. */
  c_spn4imm: f('imm', false, 10, [[5, 4, 11], [9, 6, 7], [2, 2, 6], [3, 3, 5]]),
  /** c.lw / c.sw: uimm[6:2]. */
  c_lwimm: f('imm', false, 7, [[5, 3, 10], [2, 2, 6], [6, 6, 5]]),
  /** c.lwsp: uimm[7:2]. */
  c_lwspimm: f('imm', false, 8, [[5, 5, 12], [4, 2, 4], [7, 6, 2]]),
  /** c.swsp: uimm[7:2]. */
  c_swspimm: f('imm', false, 8, [[5, 2, 9], [7, 6, 7]]),
  /** c.beqz / c.bnez: offset[8:1]. */
  c_bimm: f('imm', true, 9, [[8, 8, 12], [4, 3, 10], [7, 6, 5], [2, 1, 3], [5, 5, 2]]),
  /** c.j / c.jal: offset[11:1]. */
  c_jimm: f('imm', true, 12, [[11, 11, 12], [4, 4, 11], [9, 8, 9], [10, 10, 8], [6, 6, 7], [7, 7, 6], [3, 1, 3], [5, 5, 2]]),
} as const satisfies Record<string, FieldSpec>;

/** Name of an operand field. */
export type FieldName = keyof typeof FIELDS;

/** Extracts a field's value from an instruction word (register fields include their base). */
export function getField(word: number, name: FieldName): number {
  const spec: FieldSpec = FIELDS[name];
  let v = 0;
  // Indexed loops: the decoders' tables are built at start-up through here, before V8 optimizes
  // anything, and a for-of over the runs left megabytes of iterator garbage.
  const runs = spec.runs;
  for (let i = 0; i < runs.length; i++) {
    const run = runs[i];
    const lo = run[1];
    v |= ((word >>> run[2]) & ((1 << (run[0] - lo + 1)) - 1)) << lo;
  }
  if (spec.signed) {
    const sh = 32 - spec.width;
    v = (v << sh) >> sh;
  } else {
    v >>>= 0;
  }
  return v + (spec.regBase ?? 0);
}

/** Places a value into a field; returns the bits to OR into the word. The value must already fit. */
export function putField(name: FieldName, value: number): number {
  const spec: FieldSpec = FIELDS[name];
  const v = value - (spec.regBase ?? 0);
  let word = 0;
  const runs = spec.runs;
  for (let i = 0; i < runs.length; i++) {
    const run = runs[i];
    const lo = run[1];
    word |= ((v >>> lo) & ((1 << (run[0] - lo + 1)) - 1)) << run[2];
  }
  return word >>> 0;
}

/** Mask of the instruction bits that a field occupies. */
export function fieldMask(name: FieldName): number {
  let m = 0;
  for (const [hi, lo, at] of FIELDS[name].runs) m |= ((1 << (hi - lo + 1)) - 1) << at;
  return m >>> 0;
}

/** True when `value` can be encoded in the field exactly (range and the implied low zero bits). */
export function fieldFits(name: FieldName, value: number): boolean {
  const spec: FieldSpec = FIELDS[name];
  if (spec.kind === 'creg') return value >= 8 && value <= 15;
  const lowest = Math.min(...spec.runs.map((r) => r[1]));
  if (lowest > 0 && (value & ((1 << lowest) - 1)) !== 0) return false;
  if (spec.signed) {
    const lim = 2 ** (spec.width - 1);
    return value >= -lim && value < lim;
  }
  return value >= 0 && value < 2 ** spec.width;
}
