// vmlab's para-virtual SBI extension (docs/reference.md, "Para-virtual ABI"): what a `pv` guest
// kernel calls instead of executing privileged or sensitive instructions. The SBI calling convention
// applies: ecall with a7 = PV_EID, a6 = function, a0..a5 arguments; a0 = error (SbiError), a1 = value.

/** The extension id: "\x08VML". */
export const PV_EID = 0x0856_4d4c;

/** Function ids. */
export const PvFn = {
  FEATURES: 0,
  SET_ROOT: 1,
  MMU_UPDATE: 2,
  FLUSH: 3,
  CSR_READ: 4,
  CSR_WRITE: 5,
  SET_IRQ: 6,
  RETURN_TO_USER: 7,
  BLK_RW: 8,
} as const;

/** Function names, by id (statistics: `pv.<name>`). */
export const PV_FUNCTION_NAMES: readonly string[] = [
  'features', 'set_root', 'mmu_update', 'flush', 'csr_read', 'csr_write', 'set_irq', 'return_to_user', 'blk_rw',
];

/** The `features` answer: one bit per function this VMM implements. */
export const PV_FEATURES = (1 << PV_FUNCTION_NAMES.length) - 1;

/** Most {pte_gpa, value} pairs one mmu_update takes (one 4 KiB page of pairs). */
export const PV_MAX_BATCH = 512;

/** Most sectors one blk_rw moves (64 KiB). */
export const PV_MAX_SECTORS = 128;
