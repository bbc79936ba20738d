// The translation-cache inspector of a bt-mode VM (docs/vmm.md, bt): every live block with its
// cache key (guest-physical address, virtual privilege), hits, the last callout it holds and the
// block it is chained to, packed as words; one block at a time with its guest instructions
// disassembled beside the JavaScript each became; and the history of invalidations.

import { DisasmState, printInsn } from '../engine/asm';
import { BtVcpu } from '../engine/vmm/bt/bt-vcpu';
import { INVALIDATION_HISTORY, type BtBlock } from '../engine/vmm/bt/cache';
import { CALLOUT_NAMES } from '../engine/vmm/bt/translate';
import type { Vm } from '../engine/vmm/vm';
import type { Vmm } from '../engine/vmm/vmm';
import type { TranslatedBlockDetail, TranslatedBlockInfo, TranslationsInfo } from '../shared/inspect-api';

/** The bt vCPU of `vm`, or undefined when the VM runs in another mode. */
export function btVcpuOf(vmm: Vmm, vm: Vm): BtVcpu | undefined {
  const v = vmm.vcpu(vm);
  return v instanceof BtVcpu ? v : undefined;
}

const NONE = 0xffffffff;

/**
 * The last callout a block holds, or -1: the one that ends it, or a CSR access or rdpriv it goes on
 * after when the VMM says the guest's context stayed (those are the only callouts before its end).
 */
function calloutOf(b: BtBlock): number {
  for (let i = b.insns.length - 1; i >= 0; i--) if (b.insns[i].callout >= 0) return b.insns[i].callout;
  return -1;
}

/** The live block a block is chained to, or undefined. */
function chainOf(b: BtBlock): BtBlock | undefined {
  return b.chain !== undefined && b.chain.valid ? b.chain : undefined;
}

/** The cache of a bt vCPU, with the guest's clock `step`. */
export function translationsInfo(bt: BtVcpu, step: number): TranslationsInfo {
  const blocks = bt.cache.entries();
  const words = new Uint32Array(blocks.length * 8);
  const pages = new Set<number>();
  blocks.forEach((b, i) => {
    const chain = chainOf(b);
    words.set([b.gpa, b.pc >>> 0, b.priv, b.length, b.bytes, b.hits, calloutOf(b) < 0 ? NONE : calloutOf(b), chain ? chain.gpa : NONE], i * 8);
    pages.add(Math.floor(b.gpa / 4096));
  });
  return {
    step,
    blocks: new Uint8Array(words.buffer),
    calloutNames: [...CALLOUT_NAMES],
    invalidations: bt.cache.invalidations().map((x) => ({
      step: x.step, instret: x.instret, ...(x.pc !== -1 && { pc: x.pc >>> 0 }), cause: x.cause, gpa: x.gpa >>> 0, length: x.length, blocks: x.blocks.map((g) => g >>> 0),
    })),
    historySize: INVALIDATION_HISTORY,
    codePages: [...pages].sort((p, q) => p - q),
  };
}

/** One block of the cache with its code; undefined when no live block has that key. */
export function translatedBlock(bt: BtVcpu, gpa: number, priv: number): TranslatedBlockDetail | undefined {
  const b = bt.cache.get(gpa, priv);
  if (b === undefined) return undefined;
  const st = new DisasmState();
  const callout = calloutOf(b);
  const chain = chainOf(b);
  const info: TranslatedBlockInfo = { gpa: b.gpa, pc: b.pc >>> 0, priv: b.priv, length: b.length, bytes: b.bytes, hits: b.hits, callout, chain: chain ? chain.gpa : -1 };
  return {
    ...info,
    insns: b.insns.map((i) => {
      const p = printInsn(i.bits, i.pc >>> 0, st);
      const operands = p.operands + (p.target !== undefined ? p.target.toString(16) : '');
      const out: TranslatedBlockDetail['insns'][number] = {
        pc: i.pc >>> 0,
        hex: i.bits.toString(16).padStart((i.bits & 3) === 3 ? 8 : 4, '0'),
        text: `${p.mnemonic}${operands ? ` ${operands}` : ''}`,
        code: i.code,
      };
      return i.callout >= 0 ? { ...out, callout: CALLOUT_NAMES[i.callout] } : out;
    }),
    source: b.source,
  };
}
