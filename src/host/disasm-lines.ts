// objdump-style lines from a block of memory, shared by the bare machine's and the VMs' debuggers.

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
