// Integer register names: numeric (x0..x31) and ABI (RISC-V psABI ch. 1, "Register Convention"),
// plus `fp` for s0, as GNU as accepts them.

/** ABI names indexed by register number, as objdump prints them. */
export const ABI_NAMES: readonly string[] = [
  'zero', 'ra', 'sp', 'gp', 'tp', 't0', 't1', 't2', 's0', 's1', 'a0', 'a1', 'a2', 'a3', 'a4', 'a5',
  'a6', 'a7', 's2', 's3', 's4', 's5', 's6', 's7', 's8', 's9', 's10', 's11', 't3', 't4', 't5', 't6',
];

/** Register number by any accepted name (x0..x31, ABI names, fp). */
export const REG_BY_NAME: ReadonlyMap<string, number> = new Map([
  ...ABI_NAMES.map((n, i) => [n, i] as const),
  ...ABI_NAMES.map((_, i) => [`x${i}`, i] as const),
  ['fp', 8] as const,
]);
