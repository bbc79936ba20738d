// Generated differential corpus: every instruction-table entry with operands spread over their
// ranges and edge values, every pseudo-instruction and directive. Each line has vmlab's spelling
// and GNU's (they differ only for Xsensitive, which GNU knows as `.insn`).

import { FIELDS, fieldFits, type FieldName } from '../../src/engine/isa/fields';
import { Op } from '../../src/engine/isa/opcodes';
import { INSTRUCTIONS, type InsnDef } from '../../src/engine/isa/table';
import { ABI_NAMES } from '../../src/engine/isa/registers';
import { PRINTED_CSRS } from '../../src/engine/isa/csr-names';
import { fieldRange } from '../../src/engine/asm/forms';

/** One corpus line in both spellings. */
export interface CorpusLine {
  readonly mine: string;
  readonly gnu: string;
}

/** Deterministic PRNG (xorshift32). */
export function rng(seed: number): (n: number) => number {
  let s = seed >>> 0 || 1;
  return (n: number) => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s % n;
  };
}

const REGS = [0, 1, 2, 3, 4, 5, 8, 9, 10, 11, 15, 16, 17, 28, 31];
const FENCES = ['w', 'r', 'rw', 'o', 'ow', 'or', 'orw', 'i', 'iw', 'ir', 'irw', 'io', 'iow', 'ior', 'iorw'];

/** Registers a C entry may not use without becoming reserved or a HINT (spec 16.7). */
function cRegOk(def: InsnDef, field: FieldName, r: number): boolean {
  if (def.nonzero?.includes(field) && r === 0) return false;
  if (['c.li', 'c.lui', 'c.mv', 'c.add', 'c.slli', 'c.addi'].includes(def.name) && field === 'c_rd' && r === 0) return false;
  if (def.name === 'c.lui' && r === 2) return false;
  return true;
}

function immValues(def: InsnDef, field: FieldName, next: (n: number) => number): number[] {
  const r = fieldRange(field);
  const vals = [r.lo, r.hi, 0, r.scale, -r.scale, r.lo + r.scale, r.hi - r.scale];
  for (let i = 0; i < 6; i++) vals.push(r.lo + r.scale * next(Math.floor((r.hi - r.lo) / r.scale) + 1));
  return vals.filter((v) => fieldFits(field, v) && !(v === 0 && (def.nonzero?.includes(field) || ['c_shamt'].includes(field) || (def.name === 'c.addi' && field === 'c_imm6'))));
}

function gnuSpelling(def: InsnDef, fields: Record<string, number>): string {
  if (def.id === Op.RDPRIV) return `.insn i 0x0b, 0, ${ABI_NAMES[fields.rd]}, x0, 0`;
  if (def.id === Op.SETSIE) return `.insn i 0x0b, 1, x0, ${ABI_NAMES[fields.rs1]}, 0`;
  return `.insn i 0x0b, 2, x0, ${ABI_NAMES[fields.rs1]}, 0`;
}

/** Lines for every table entry: about `per` variants each with spread operands. */
export function tableLines(seed: number, per = 14, rvc = true): CorpusLine[] {
  const next = rng(seed);
  const out: CorpusLine[] = [];
  let label = 0;
  const csrs = PRINTED_CSRS.map(([n]) => n);
  for (const def of INSTRUCTIONS) {
    if (!rvc && def.size === 2) continue;
    const tokens = def.syntax === '' ? [] : def.syntax.split(', ');
    const count = tokens.length === 0 ? 1 : per;
    const suffixes = def.aqrl ? ['', '.aq', '.rl', '.aqrl'] : [''];
    for (let v = 0; v < count; v++) {
      const fields: Record<string, number> = {};
      const parts: string[] = [];
      let ok = true;
      for (const tok of tokens) {
        const mem = /^([a-z_0-9]*)\(([a-z_0-9]+)\)$/.exec(tok);
        const pickReg = (field: FieldName): string => {
          const spec = FIELDS[field];
          let r = spec.kind === 'creg' ? 8 + next(8) : v < REGS.length ? REGS[(v + tokens.indexOf(tok) * 3) % REGS.length] : next(32);
          for (let k = 0; k < 40 && !cRegOk(def, field, r); k++) r = spec.kind === 'creg' ? 8 + next(8) : next(32);
          fields[field] = r;
          return v % 3 === 0 ? `x${r}` : ABI_NAMES[r];
        };
        const pickImm = (field: FieldName): string => {
          const vals = immValues(def, field, next);
          if (!vals.length) {
            ok = false;
            return '0';
          }
          const x = vals[v % vals.length];
          fields[field] = x;
          return field === 'imm_u' || field === 'c_luiimm' ? (field === 'c_luiimm' && x < 0 ? `0x${(x + 0x100000).toString(16)}` : `0x${x.toString(16)}`) : String(x);
        };
        if (mem) {
          const off = mem[1] ? pickImm(mem[1] as FieldName) : '';
          const base = mem[2] === 'sp' ? 'sp' : pickReg(mem[2] as FieldName);
          parts.push(`${off}(${base})`);
        } else if (tok === 'sp') parts.push('sp');
        else {
          const field = tok as FieldName;
          const kind = FIELDS[field].kind;
          if (kind === 'reg' || kind === 'creg') parts.push(pickReg(field));
          else if (kind === 'csr') {
            const n = v % 2 ? csrs[next(csrs.length)] : next(4096);
            parts.push(v % 2 ? PRINTED_CSRS.find((c) => c[0] === n)![1] : String(n));
          } else if (kind === 'fence') parts.push(FENCES[next(FENCES.length)]);
          else if (['imm_b', 'imm_j', 'c_bimm', 'c_jimm'].includes(field)) parts.push(v % 2 ? `${label}b` : `${label}f`);
          else if (field === 'shamt' || field === 'c_shamt' || field === 'zimm') {
            const vals = field === 'c_shamt' ? [1, 31, 1 + next(31)] : [0, 31, 1, next(32)];
            parts.push(String(vals[v % vals.length]));
          } else parts.push(pickImm(field));
        }
      }
      if (!ok) continue;
      const suffix = suffixes[v % suffixes.length];
      const text = `${def.name}${suffix}${parts.length ? ' ' + parts.join(', ') : ''}`;
      const isX = def.ext === 'Xsensitive';
      out.push({ mine: text, gnu: isX ? gnuSpelling(def, fields) : text });
      if (v % 4 === 3) {
        label = (label + 1) % 10;
        out.push({ mine: `${label}:`, gnu: `${label}:` });
      }
    }
  }
  return out;
}

const PSEUDO_TEMPLATES = [
  'nop', 'li a0, 0', 'li a0, -1', 'li a0, 31', 'li a0, -32', 'li a0, 32', 'li a0, 2047', 'li a0, -2048', 'li a0, 2048', 'li a0, 0x1000',
  'li sp, 0x1000', 'li a0, 0x1001', 'li a0, 0x7ffff800', 'li a0, 0x80000000', 'li a0, 0xffffffff', 'li a0, 0x12345678', 'li zero, 5', 'li t6, -4096',
  'li s1, 0xfffff000', 'li a5, 0x1f000', 'li a5, 0x20000', 'li x1, 4095', 'li gp, 1<<20', 'li a0, (3*7)+1', 'li t0, 0b1011', 'li t1, 017', "li a2, 'A'",
  'mv a0, a1', 'mv a0, x0', 'mv s0, sp', 'mv t0, t1', 'not a0, a1', 'not t0, t0', 'neg a0, a1', 'neg s1, s1',
  'seqz a0, a1', 'snez a0, a1', 'sltz a0, a1', 'sgtz a0, a1', 'sgt a0, a1, a2', 'sgtu t0, t1, t2', 'zext.b a0, a1',
  'beqz a0, 1b', 'bnez s1, 1f', 'beqz t0, 1f', 'bnez a5, 1b', 'blez a0, 1b', 'bgez a1, 1f', 'bltz a2, 1b', 'bgtz a3, 1f',
  'bgt a0, a1, 1b', 'ble a0, a1, 1f', 'bgtu t0, t1, 1b', 'bleu t2, t3, 1f', 'beq a0, x0, 1b', 'bne s0, zero, 1f', 'beq x0, a0, 1f',
  'j 1b', 'j 1f', 'jal 1b', 'jal 1f', 'jal ra, 1f', 'jal x0, 1b', 'jal t0, 1b', 'jr a0', 'jr ra', 'jr 8(a0)', 'jr a1, 4', 'jalr a0', 'jalr 8(a1)', 'jalr t0, a1',
  'jalr ra, 0(a0)', 'jalr x0, 0(a0)', 'jalr a0, a1, 12', 'ret',
  'call fn', 'call t0, fn', 'tail fn', 'jump fn, t1', 'la a0, msg', 'lla a1, msg', 'la s0, fn', 'la a0, msg+4', 'lla t0, data_word',
  'lb a0, msg', 'lbu a1, msg', 'lh a2, data_half', 'lhu a3, data_half', 'lw a4, data_word', 'sb a0, data_word, t0', 'sh a1, data_half, t1', 'sw a2, data_word, t2',
  'csrr a0, mstatus', 'csrr t0, 0x7c0', 'csrr a0, satp', 'csrw mtvec, a0', 'csrs mie, t0', 'csrc mip, t1', 'csrwi mstatus, 8', 'csrsi sstatus, 2', 'csrci sie, 31',
  'csrw mscratch, 5', 'csrs sip, 1', 'csrc mstatus, 0', 'csrr a0, mtinst', 'csrw mtval2, a1', 'csrrw a0, mscratch, 3', 'csrrs a0, mstatus, 8', 'csrrc a0, mstatus, 31',
  'rdcycle a0', 'rdtime a1', 'rdinstret a2', 'rdcycleh a3', 'rdtimeh a4', 'rdinstreth a5',
  'fence', 'fence rw, rw', 'fence iorw, iorw', 'fence r, w', 'fence.i', 'fence.tso', 'pause', 'sfence.vma', 'sfence.vma a0', 'sfence.vma a0, a1', 'sfence.vma zero, a1',
  'hfence.vvma', 'hfence.vvma a0', 'hfence.gvma a0, a1', 'ecall', 'ebreak', 'scall', 'sbreak', 'unimp', 'mret', 'sret', 'wfi',
  'add a0, a0, 5', 'add a0, a1, -7', 'and a0, a0, 15', 'or t0, t1, 0x7f', 'xor a0, a0, -1', 'slt a0, a1, 100', 'sltu a0, a1, 1', 'sll a0, a0, 3', 'srl a1, a1, 31', 'sra a2, a2, 1',
  'addi a0, a0, 0', 'addi sp, sp, 16', 'addi sp, sp, 32', 'addi sp, sp, -512', 'addi a0, sp, 16', 'addi a0, sp, 1020', 'addi a0, a1, 0', 'addi x0, x0, 0', 'addi x0, x0, 5',
  'add a0, a1, a0', 'add a0, x0, a1', 'add a0, a1, x0', 'and a0, a1, a0', 'or a0, a1, a0', 'xor a0, a1, a0', 'sub a0, a1, a0',
  'lw a0, 0(sp)', 'lw x0, 0(sp)', 'sw x0, 0(sp)', 'lw a0, 252(sp)', 'lw a0, 256(sp)', 'lw a0, 124(a1)', 'lw a0, 128(a1)', 'lw a0, 2(a1)', 'sw a5, 124(s1)', 'sw ra, 252(sp)',
  'lw a0, (a1)', 'sw a0, (sp)', 'lw a0, %lo(msg)(a1)', 'lui a0, %hi(msg)', 'addi a0, a0, %lo(msg)', 'sw a0, %lo(data_word)(a1)', 'lui a1, %hi(0x12345678)', 'addi a1, a1, %lo(0x12345678)',
  '2: auipc a0, %pcrel_hi(msg)', 'addi a0, a0, %pcrel_lo(2b)', '3: auipc t0, %pcrel_hi(data_word)', 'lw t1, %pcrel_lo(3b)(t0)', 'sw t1, %pcrel_lo(3b)(t0)',
  'slli a0, a0, 0', 'slli x0, x0, 3', 'srli a0, a0, 0', 'lui x0, 1', 'lui sp, 1', 'lui a0, 0x1f', 'lui a0, 0x20', 'lui a0, 0xfffe0', 'andi a0, a0, 0', 'srai s1, s1, 31',
  'lr.w a0, 0(a1)', 'lr.w.aqrl t0, (t1)', 'sc.w a0, a2, 0(a1)', 'amoswap.w.aq a0, a1, (a2)',
];

/** Lines for every pseudo-instruction and alias, with labels the branches and loads refer to. */
export function pseudoLines(): CorpusLine[] {
  const lines = ['1:', ...PSEUDO_TEMPLATES.slice(0, 60), '1:', ...PSEUDO_TEMPLATES.slice(60), '1:', 'ret'];
  return lines.map((l) => ({ mine: l, gnu: l }));
}

/** Data sections and directives appended after the code. */
export function directiveLines(): CorpusLine[] {
  const lines = [
    '.section .rodata', 'msg: .asciz "hello, world\\n"', '.ascii "abc", "\\x41\\101\\t"', '.string "x"', '.align 2',
    '.data', '.byte 1, 2, 255, -1, \'a\'', '.align 1', 'data_half: .half 0x1234, -2', '.short 7', '.2byte 9', '.balign 4',
    'data_word: .word 0xdeadbeef, fn, msg+3, . - msg, data_half - msg', '.long 5', '.4byte -5', '.quad 0x123456789abcdef0', '.dword -1', '.8byte 3',
    '.zero 3', '.space 2, 0xab', '.skip 1', '.fill 3, 2, 0x1234', '.p2align 3', '.word (1 << 31) | 5, ~0, 7 / 2, -7 % 3, 6 ^ 3, 0x10 >> 2',
    '.equ CONST, 40 + 2', '.set OTHER, CONST * 2', 'SYM = OTHER - 1', '.word CONST, OTHER, SYM, CONST == 42, CONST != 42, CONST > 1',
    '.balign 16, 0x5a', '.byte 1', '.p2align 2, 0, 1', '.byte 2', '.p2align 4, , 15',
    '.word 1', '.bss', 'bss_start: .zero 64', '.align 4', '.space 12', '.comm common_buf, 32, 8', '.lcomm local_buf, 4',
  ];
  return lines.map((l) => ({ mine: l, gnu: l }));
}

/** Code-section directives: alignment padding with nops, .option push/pop, data in .text. */
export function textDirectiveLines(): CorpusLine[] {
  const lines = [
    'nop', '.byte 1', '.align 2', 'nop', '.align 3', '.half 0x4501', '.balign 8', 'add a0, a0, a1', '.p2align 4',
    '.option push', '.option norvc', 'add a0, a0, a1', '.align 3', '.option pop', 'add a0, a0, a1', '.word 0x00000013', '.byte 1, 2, 3',
    '.p2align 2', 'li a0, 1', '.option push', '.option rvc', 'li a0, 2', '.option pop',
    '.macro pushreg r, off=0', '  sw \\r, \\off(sp)', '.endm', 'pushreg ra, 12', 'pushreg s0', 'pushreg r=a0, off=4',
    '.macro sum from=0, to=3', '  .word \\from', '  .if \\to-(\\from)', '    sum (\\from+1), \\to', '  .endif', '.endm', 'sum 0, 3',
    '.macro say str, tag=x', '  .pushsection .rodata', '  .asciz "\\str"', '  .ascii "<\\tag>"', '  .popsection', '  li a0, 1', '.endm',
    'say "two words"', 'say "a\\"b", tag="q\\"z"', 'say plain', 'say tag=t, str="x, y"',
    '.rept 3', 'addi a0, a0, 1', '.endr', '.irp r, a0, a1, t0', 'mv \\r, zero', '.endr', '.irpc c, 123', '.byte \\c', '.endr', '.align 2',
    '.if 1', 'li a0, 7', '.else', 'li a0, 8', '.endif', '.ifdef CONST', 'li a1, CONST', '.endif', '.ifndef NOPE', 'li a2, 3', '.elseif 1', 'li a2, 4', '.endif',
    '.if 0', 'li a3, 1', '.elseif 1', 'li a3, 2', '.else', 'li a3, 3', '.endif', '.ifeq CONST - 42', 'nop', '.endif', '.ifgt CONST', 'nop', '.endif',
    'nop; nop; add a0, a0, 1 # trailing comment', 'li a0, 5 /* block */ ; li a1, 6',
    // load_const with rd = zero: GNU emits the addi even for a zero low part (lui zero,0x20 + nop).
    'li zero, 0x20000', 'li x0, -4096', 'li zero, 0x12345', 'li zero, 0x20001', 'li zero, 0x7ffff800',
    '.option push', '.option rvc', 'c.unimp', 'unimp', '.option pop', 'unimp',
  ];
  return lines.map((l) => ({ mine: l, gnu: l }));
}

/** A whole differential program: code lines, then data. `rvc` false puts `.option norvc` first. */
export function program(code: CorpusLine[], rvc: boolean, which: 'mine' | 'gnu'): string {
  const head = ['.text', '.globl _start', '_start:', 'fn:', rvc ? '.option rvc' : '.option norvc', '.equ CONST, 42'];
  const body = code.map((l) => l[which]);
  return [...head, ...body, ...directiveLines().map((l) => l[which])].join('\n') + '\n';
}
