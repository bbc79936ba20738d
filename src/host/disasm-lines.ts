// objdump-style lines from a block of memory, and the call test of step over, shared by the bare
// machine's and the VMs' debuggers.

import { DisasmState, printInsn } from '../engine/asm';
import type { DisasmLine, MemoryBlock } from '../shared/lab-api';

/** Disassembles up to `count` instructions from `block` (read at its own address); unreadable halves read '??'. */
export function disassembleBlock(block: MemoryBlock, count: number): DisasmLine[] {
  const st = new DisasmState();
  const out: DisasmLine[] = [];
  const b = block.bytes;
  let off = 0;
  while (out.length < count && off + 2 <= b.length) {
    const at = (block.address + off) >>> 0;
    const half = b[off] | (b[off + 1] << 8);
    const size = (half & 3) === 3 ? 4 : 2;
    if (off + size > b.length) break;
    if (!block.valid.subarray(off, off + size).every((v) => v === 1)) {
      out.push({ address: at, hex: '', text: '??' });
      off += 2;
      continue;
    }
    const bits = size === 4 ? (half | (b[off + 2] << 16) | (b[off + 3] << 24)) >>> 0 : half;
    const p = printInsn(bits, at, st);
    // objdump style: a branch target follows the operands in bare hex.
    const operands = p.operands + (p.target !== undefined ? p.target.toString(16) : '');
    const comment = p.comment !== undefined ? ` # ${p.comment.toString(16)}` : '';
    out.push({ address: at, hex: bits.toString(16).padStart(size * 2, '0'), text: `${p.mnemonic}${operands ? ` ${operands}` : ''}${comment}` });
    off += size;
  }
  return out;
}

/**
 * The address after the instruction at `pc` (its first 4 bytes in `block`) when it is a call: jal or
 * jalr writing a register, c.jal, or c.jalr; undefined for anything else.
 */
export function callReturnAddress(pc: number, block: MemoryBlock): number | undefined {
  if (!block.valid[0] || !block.valid[1]) return undefined;
  const lo = block.bytes[0] | (block.bytes[1] << 8);
  if ((lo & 3) !== 3) {
    // c.jal (RV32: funct3 001, op 01) and c.jalr (1001, rs1 != 0, rs2 = 0, op 10) link ra.
    const cjal = (lo & 0xe003) === 0x2001;
    const cjalr = (lo & 0xf07f) === 0x9002 && ((lo >> 7) & 31) !== 0;
    return cjal || cjalr ? (pc + 2) >>> 0 : undefined;
  }
  if (!block.valid[2] || !block.valid[3]) return undefined;
  const insn = (lo | (block.bytes[2] << 16) | (block.bytes[3] << 24)) >>> 0;
  const opcode = insn & 0x7f;
  const rd = (insn >> 7) & 31;
  return (opcode === 0x6f || opcode === 0x67) && rd !== 0 ? (pc + 4) >>> 0 : undefined;
}
