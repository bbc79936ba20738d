// Block translator: hot straight-line runs of guest code become JavaScript functions (as v86 does),
// so the interpreter's fetch/decode/dispatch is paid once per block instead of once per
// instruction. Blocks are keyed by RAM offset and virtual pc, end at the first control transfer or
// at an instruction that needs the hart's slow path (CSRs, system, atomics), and never cross a page.
// A page holding translated code loses its TLB write tag, so stores to it take the slow path, which
// drops the page's blocks when the store hits a 128-byte chunk holding code (self-modifying code).
// Blocks retire, trap and count steps exactly as the interpreter would; tests compare the two.

import { DECODE_BUCKET, decodeSlow, EXPAND_C } from '../isa/decode';
import { Op } from '../isa/opcodes';
import type { Hart } from './hart';

/** A translated block: returns instructions retired, or -1 - retired when it trapped. */
export type BlockFn = (
  h: Hart, x: Int32Array, r8: Uint8Array, r16: Uint16Array, r32: Int32Array,
  tagR: Int32Array, tagW: Int32Array, toff: Int32Array, dtag: number, n0: number, s0: number,
) => number;

const CACHE_BITS = 14;
/** Mask for the block cache index (RAM halfword offset). */
export const BLOCK_MASK = (1 << CACHE_BITS) - 1;
/** Executions of a block start before it is translated. */
export const HOT_THRESHOLD = 16;
const MAX_BLOCK = 48;
/** Invalidations after which a page is left to the interpreter. */
const PAGE_INVALIDATION_LIMIT = 32;

/** Translated blocks and the bookkeeping of which RAM holds code. */
export class CodeCache {
  readonly blkOff = new Int32Array(1 << CACHE_BITS).fill(-1);
  readonly blkPc = new Int32Array(1 << CACHE_BITS);
  readonly blkLen = new Int32Array(1 << CACHE_BITS);
  /** Bytes of guest code each block covers (breakpoints inside it send execution to the interpreter). */
  readonly blkBytes = new Int32Array(1 << CACHE_BITS);
  readonly blkFn: BlockFn[] = new Array(1 << CACHE_BITS);
  readonly hot = new Uint8Array(1 << CACHE_BITS);
  /** Per RAM page: bit i set when chunk i (128 bytes) holds translated code. */
  readonly codeChunks: Uint32Array;
  private readonly pageInvalidations: Uint16Array;
  private readonly pageBlocks = new Map<number, number[]>();
  /** Statistics. */
  translated = 0;
  invalidations = 0;

  constructor(ramSize: number) {
    this.codeChunks = new Uint32Array(Math.ceil(ramSize / 4096));
    this.pageInvalidations = new Uint16Array(this.codeChunks.length);
    const noop: BlockFn = () => 0;
    this.blkFn.fill(noop);
  }

  /** Drops every block (after RAM was rewritten from outside: load, reset, restore). */
  flush(): void {
    this.blkOff.fill(-1);
    this.hot.fill(0);
    this.codeChunks.fill(0);
    this.pageInvalidations.fill(0);
    this.pageBlocks.clear();
  }

  /** Whether a store of `size` bytes at RAM offset `off` hits translated code. */
  hitsCode(off: number, size: number): boolean {
    const bits = this.codeChunks[off >>> 12];
    if (bits === 0) return false;
    const first = (off & 0xfff) >>> 7;
    const last = ((off + size - 1) & 0xfff) >>> 7;
    return ((bits >>> first) & 1) !== 0 || ((bits >>> last) & 1) !== 0;
  }

  /**
   * Forgets the RAM page containing `off` entirely: its blocks and its history of invalidations
   * (the page changed hands, or was rewritten from outside, and starts afresh).
   */
  releasePage(off: number): void {
    const page = off >>> 12;
    if (this.codeChunks[page] !== 0 || this.pageBlocks.has(page)) {
      this.invalidatePage(off);
      this.invalidations--;
    }
    this.pageInvalidations[page] = 0;
  }

  /** Drops the blocks of the RAM page containing `off`. */
  invalidatePage(off: number): void {
    const page = off >>> 12;
    this.invalidations++;
    this.codeChunks[page] = 0;
    if (this.pageInvalidations[page] < 65535) this.pageInvalidations[page]++;
    for (const i of this.pageBlocks.get(page) ?? []) if (this.blkOff[i] >>> 12 === page) this.blkOff[i] = -1;
    this.pageBlocks.delete(page);
  }

  /**
   * Translates the block at RAM offset `off` (virtual `pc`) if it has enough instructions; returns
   * whether one was installed. `wasCode` tells the caller to drop write tags for the page.
   */
  translate(h: Hart, off: number, pc: number): boolean {
    const page = off >>> 12;
    if (this.pageInvalidations[page] >= PAGE_INVALIDATION_LIMIT) return false;
    const built = buildBlock(h, off, pc);
    if (built === undefined) return false;
    const i = (off >> 1) & BLOCK_MASK;
    this.blkOff[i] = off;
    this.blkPc[i] = pc;
    this.blkLen[i] = built.length;
    this.blkBytes[i] = built.bytes;
    this.blkFn[i] = built.fn;
    this.translated++;
    const list = this.pageBlocks.get(page);
    if (list) list.push(i);
    else this.pageBlocks.set(page, [i]);
    const endOff = off + built.bytes - 1;
    let bits = this.codeChunks[page];
    const wasCode = bits !== 0;
    for (let c = (off & 0xfff) >>> 7; c <= ((endOff & 0xfff) >>> 7); c++) bits |= 1 << c;
    this.codeChunks[page] = bits >>> 0;
    if (!wasCode) h.codePageAdded(page);
    return true;
  }
}

const R = (r: number): string => (r === 0 ? '0' : `x[${r}]`);

interface Built {
  fn: BlockFn;
  length: number;
  bytes: number;
}

/** Instructions a block may contain (everything else ends the block before it). */
function simple(id: number, hasM: boolean): boolean {
  if (id >= Op.MUL && id <= Op.REMU) return hasM;
  return (id >= Op.LUI && id <= Op.AND) || id === Op.FENCE || id === Op.FENCE_TSO || id === Op.PAUSE;
}

function buildBlock(h: Hart, off: number, pc: number): Built | undefined {
  const r16 = h.bus.ram16;
  const hasC = h.features.c;
  const lines: string[] = ['let a = 0, v = 0, vp = 0, ti = 0;'];
  let k = 0;
  let cur = off;
  let vpc = pc;
  let ended = false;
  while (k < MAX_BLOCK && !ended) {
    const inPage = cur & 0xfff;
    if (inPage > 0xffe) break;
    let raw = r16[cur >> 1];
    let size = 4;
    let w: number;
    if ((raw & 3) === 3) {
      if (inPage === 0xffe) break;
      raw = (raw | (r16[(cur >> 1) + 1] << 16)) | 0;
      w = raw;
    } else {
      if (!hasC) break;
      w = EXPAND_C[raw];
      size = 2;
    }
    let id = DECODE_BUCKET[(w & 0x7f) | ((w >>> 5) & 0x380)];
    if (id < 0) id = decodeSlow(w, id);
    if (!simple(id, h.features.m)) break;
    const next = (vpc + size) | 0;
    const code = emit(id, w, k, vpc, next, hasC);
    if (code === undefined) break;
    lines.push(code.text);
    ended = code.ends;
    k++;
    cur += size;
    vpc = next;
  }
  if (k < 2 && !ended) return undefined;
  if (!ended) lines.push(`h.pc = ${vpc}; return ${k};`);
  let body = lines.join('\n');
  // TLB hits of the block's loads and stores are counted in a local and added at every exit.
  if (body.includes('hh++')) body = 'let hh = 0;\n' + body.replace(/return /g, 'h.tlb.hits += hh; return ');
  const fn = new Function('h', 'x', 'r8', 'r16', 'r32', 'tagR', 'tagW', 'toff', 'dtag', 'n0', 's0', body) as BlockFn;
  return { fn, length: k, bytes: cur - off };
}

/** Code that syncs the hart before a slow call for instruction k at `pc`. */
function sync(k: number, pc: number): string {
  return `h.pc = ${pc}; h.sliceDone = n0 + ${k}; h.sliceSteps = s0 + ${k + 1};`;
}

/** After a slow access: trap, or leave the block when the slice was cut short (device access). */
function afterSlow(k: number, next: number): string {
  return `if (h.fault !== 0) { h.raiseFault(); return ${-1 - k}; } if (h.sliceEnd <= s0 + ${k + 1}) { __WRITE__ h.pc = ${next}; return ${k + 1}; }`;
}

function emit(id: number, w: number, k: number, pc: number, next: number, hasC: boolean): { text: string; ends: boolean } | undefined {
  const rd = (w >>> 7) & 31;
  const rs1 = (w >>> 15) & 31;
  const rs2 = (w >>> 20) & 31;
  const immI = w >> 20;
  const set = (expr: string): { text: string; ends: boolean } => ({ text: rd === 0 ? '' : `x[${rd}] = ${expr};`, ends: false });
  const a = R(rs1);
  const b = R(rs2);
  switch (id) {
    case Op.LUI: return set(String(w & 0xfffff000));
    case Op.AUIPC: return set(String((pc + (w & 0xfffff000)) | 0));
    case Op.ADDI: return set(`(${a} + ${immI}) | 0`);
    case Op.SLTI: return set(`${a} < ${immI} ? 1 : 0`);
    case Op.SLTIU: return set(`${a} >>> 0 < ${immI >>> 0} ? 1 : 0`);
    case Op.XORI: return set(`${a} ^ ${immI}`);
    case Op.ORI: return set(`${a} | ${immI}`);
    case Op.ANDI: return set(`${a} & ${immI}`);
    case Op.SLLI: return set(`${a} << ${rs2}`);
    case Op.SRLI: return set(`(${a} >>> ${rs2}) | 0`);
    case Op.SRAI: return set(`${a} >> ${rs2}`);
    case Op.ADD: return set(`(${a} + ${b}) | 0`);
    case Op.SUB: return set(`(${a} - ${b}) | 0`);
    case Op.SLL: return set(`${a} << (${b} & 31)`);
    case Op.SLT: return set(`${a} < ${b} ? 1 : 0`);
    case Op.SLTU: return set(`${a} >>> 0 < ${b} >>> 0 ? 1 : 0`);
    case Op.XOR: return set(`${a} ^ ${b}`);
    case Op.SRL: return set(`(${a} >>> (${b} & 31)) | 0`);
    case Op.SRA: return set(`${a} >> (${b} & 31)`);
    case Op.OR: return set(`${a} | ${b}`);
    case Op.AND: return set(`${a} & ${b}`);
    case Op.MUL: return set(`Math.imul(${a}, ${b})`);
    case Op.MULH: case Op.MULHSU: case Op.MULHU:
    case Op.DIV: case Op.DIVU: case Op.REM: case Op.REMU:
      return set(`h.mulDiv(${id}, ${a}, ${b})`);
    case Op.FENCE: case Op.FENCE_TSO: case Op.PAUSE: return { text: '', ends: false };
    case Op.JAL: {
      const t = (pc + (((w >> 31) << 20) | (w & 0xff000) | ((w >>> 9) & 0x800) | ((w >>> 20) & 0x7fe))) | 0;
      if (!hasC && (t & 2) !== 0) return undefined;
      return { text: `${rd === 0 ? '' : `x[${rd}] = ${next};`} h.pc = ${t}; return ${k + 1};`, ends: true };
    }
    case Op.JALR: {
      const check = hasC ? '' : `if ((v & 2) !== 0) { h.pc = ${pc}; h.raise(0, v); return ${-1 - k}; }`;
      return { text: `v = ((${a} + ${immI}) & ~1) | 0; ${check} ${rd === 0 ? '' : `x[${rd}] = ${next};`} h.pc = v; return ${k + 1};`, ends: true };
    }
    case Op.BEQ: case Op.BNE: case Op.BLT: case Op.BGE: case Op.BLTU: case Op.BGEU: {
      const t = (pc + (((w >> 31) << 12) | ((w << 4) & 0x800) | ((w >>> 20) & 0x7e0) | ((w >>> 7) & 0x1e))) | 0;
      if (!hasC && (t & 2) !== 0) return undefined;
      const cond = { [Op.BEQ]: `${a} === ${b}`, [Op.BNE]: `${a} !== ${b}`, [Op.BLT]: `${a} < ${b}`, [Op.BGE]: `${a} >= ${b}`,
        [Op.BLTU]: `${a} >>> 0 < ${b} >>> 0`, [Op.BGEU]: `${a} >>> 0 >= ${b} >>> 0` }[id];
      return { text: `h.pc = (${cond}) ? ${t} : ${next}; return ${k + 1};`, ends: true };
    }
    case Op.LW: case Op.LH: case Op.LHU: case Op.LB: case Op.LBU: {
      const size = id === Op.LW ? 4 : id === Op.LB || id === Op.LBU ? 1 : 2;
      const fast = size === 4 ? 'r32[((a + toff[ti]) | 0) >> 2]' : size === 2 ? 'r16[((a + toff[ti]) | 0) >> 1]' : 'r8[(a + toff[ti]) | 0]';
      const align = size === 1 ? '' : `(a & ${size - 1}) === 0 && `;
      const ext = id === Op.LH ? '(v << 16) >> 16' : id === Op.LB ? '(v << 24) >> 24' : size === 4 ? 'v | 0' : 'v';
      const write = rd === 0 ? '' : `x[${rd}] = ${ext};`;
      return {
        text: `a = (${a} + ${immI}) | 0; vp = a >>> 12; ti = vp & 1023;
if (${align}tagR[ti] === (vp | dtag)) { hh++; v = ${fast}; } else { ${sync(k, pc)} v = h.loadSlow(a, ${size}); ${afterSlow(k, next).replace('__WRITE__', write)} }
${write}`,
        ends: false,
      };
    }
    case Op.SW: case Op.SH: case Op.SB: {
      const size = id === Op.SW ? 4 : id === Op.SH ? 2 : 1;
      const immS = ((w >> 25) << 5) | ((w >>> 7) & 31);
      const fast = size === 4 ? `r32[((a + toff[ti]) | 0) >> 2] = ${b};` : size === 2 ? `r16[((a + toff[ti]) | 0) >> 1] = ${b};` : `r8[(a + toff[ti]) | 0] = ${b};`;
      const align = size === 1 ? '' : `(a & ${size - 1}) === 0 && `;
      return {
        text: `a = (${a} + ${immS}) | 0; vp = a >>> 12; ti = vp & 1023;
if (${align}tagW[ti] === (vp | dtag)) { hh++; ${fast} } else { ${sync(k, pc)} h.storeSlow(a, ${size}, ${b}); ${afterSlow(k, next).replace('__WRITE__', '')} }`,
        ends: false,
      };
    }
    default:
      return undefined;
  }
}
