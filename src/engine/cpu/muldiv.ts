// RV32M multiply and divide (unprivileged spec ch. 7), shared by the interpreter and the translator.

import { Op } from '../isa/opcodes';

/** Unsigned high word of a 32×32 multiply. */
export function mulhu(a: number, b: number): number {
  const al = a & 0xffff;
  const ah = a >>> 16;
  const bl = b & 0xffff;
  const bh = b >>> 16;
  const ll = al * bl;
  const lh = al * bh;
  const hl = ah * bl;
  const mid = (ll >>> 16) + (lh & 0xffff) + (hl & 0xffff);
  return (ah * bh + (lh >>> 16) + (hl >>> 16) + Math.floor(mid / 65536)) | 0;
}

/** Result of the M-extension operation `id` on int32 operands (division by zero and overflow per §7.2). */
export function mulDiv(id: number, a: number, b: number): number {
  switch (id) {
    case Op.MUL: return Math.imul(a, b);
    case Op.MULH: return (mulhu(a, b) - (a < 0 ? b : 0) - (b < 0 ? a : 0)) | 0;
    case Op.MULHSU: return (mulhu(a, b) - (a < 0 ? b : 0)) | 0;
    case Op.MULHU: return mulhu(a, b);
    case Op.DIV: return b === 0 ? -1 : a === -0x80000000 && b === -1 ? a : (a / b) | 0;
    case Op.DIVU: return b === 0 ? -1 : ((a >>> 0) / (b >>> 0)) | 0;
    case Op.REM: return b === 0 ? a : a === -0x80000000 && b === -1 ? 0 : a % b | 0;
    default: return b === 0 ? a : ((a >>> 0) % (b >>> 0)) | 0;
  }
}
