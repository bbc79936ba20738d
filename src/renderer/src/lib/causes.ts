// Trap causes in words, for the statistics' exits and reflected traps (privileged spec, table 3.6).

const EXCEPTIONS: Record<number, string> = {
  0: 'instruction address misaligned', 1: 'instruction access fault', 2: 'illegal instruction', 3: 'breakpoint',
  4: 'load address misaligned', 5: 'load access fault', 6: 'store address misaligned', 7: 'store access fault',
  8: 'ecall from U-mode', 9: 'ecall from S-mode', 10: 'ecall from VS-mode', 11: 'ecall from M-mode',
  12: 'instruction page fault', 13: 'load page fault', 15: 'store page fault',
  20: 'instruction guest-page fault', 21: 'load guest-page fault', 22: 'virtual instruction', 23: 'store guest-page fault',
};

const INTERRUPTS: Record<number, string> = {
  1: 'supervisor software interrupt', 3: 'machine software interrupt', 5: 'supervisor timer interrupt', 7: 'machine timer interrupt',
  9: 'supervisor external interrupt', 11: 'machine external interrupt',
};

/** A statistics key such as exception8, interrupt7 or irq5 in words, with its code. */
export function causeName(key: string): string {
  const m = /^(exception|interrupt|irq)(\d+)$/.exec(key);
  if (!m) return key;
  const code = Number(m[2]);
  const name = m[1] === 'exception' ? EXCEPTIONS[code] : INTERRUPTS[code];
  return name ? `${name} (${code})` : key;
}
