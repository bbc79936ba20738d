// Every diagnostic kind: position (line, column, length) and message. Random and truncated text
// never throws.

import { describe, expect, it } from 'vitest';
import { assemble, type SourceReader } from '../../src/engine/asm/index';
import { rng } from './corpus';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

interface Case {
  readonly name: string;
  readonly src: string;
  /** Line (1-based) and the text the diagnostic must point at on that line. */
  readonly line: number;
  readonly at: string;
  readonly message: RegExp;
  readonly severity?: 'error' | 'warning';
  readonly reader?: SourceReader;
}

const CASES: Case[] = [
  { name: 'unknown instruction', src: 'nop\n  addx a0, a1, a2', line: 2, at: 'addx', message: /unknown instruction 'addx'/ },
  { name: 'operand count', src: 'add a0, a1', line: 1, at: 'add', message: /add takes 3 operands, got 2: expected register, register, register \| register, register, immediate/ },
  { name: 'register expected', src: 'add a0, a1, 5x', line: 1, at: '5x', message: /add: expected a register, got '5x'/ },
  { name: 'register expected (name)', src: 'sub a0, a1, foo', line: 1, at: 'foo', message: /sub: expected a register, got 'foo'/ },
  { name: 'immediate range', src: 'addi a0, a0, 2048', line: 1, at: '2048', message: /immediate 2048 out of range for addi: expected -2048..2047/ },
  { name: 'shift range', src: 'slli a0, a0, 32', line: 1, at: '32', message: /immediate 32 out of range for slli: expected 0..31/ },
  { name: 'lui range', src: 'lui a0, -1', line: 1, at: '-1', message: /out of range for lui: expected 0..1048575/ },
  { name: 'compressed register class', src: 'c.lw a0, 0(sp)', line: 1, at: '0(sp)', message: /c.lw needs a register among x8..x15/ },
  { name: 'compressed scale', src: 'c.addi4spn a0, sp, 6', line: 1, at: '6', message: /out of range for c.addi4spn: expected 0..1020 and a multiple of 4/ },
  { name: 'reserved zero', src: 'c.addi4spn a1, sp, 0', line: 1, at: '0', message: /c.addi4spn needs a nonzero immediate/ },
  { name: 'x0 reserved', src: 'c.jr x0', line: 1, at: 'x0', message: /c.jr cannot use x0 here/ },
  { name: 'label as immediate', src: 'addi a0, a0, here\nhere: nop', line: 1, at: 'here', message: /addi needs a constant here known at this point/ },
  { name: 'undefined symbol', src: 'j nowhere', line: 1, at: 'nowhere', message: /undefined symbol 'nowhere'/ },
  { name: 'undefined in data', src: '.data\n.word 1, missing + 4', line: 2, at: 'missing', message: /undefined symbol 'missing'/ },
  { name: 'local label forward', src: 'beqz a0, 1f\nnop', line: 1, at: '1f', message: /local label '1' is not defined after this point/ },
  { name: 'local label backward', src: 'beqz a0, 2b', line: 1, at: '2b', message: /local label '2' is not defined before this point/ },
  { name: 'duplicate label', src: 'a: nop\na: nop', line: 2, at: 'a', message: /symbol 'a' is already defined \(first defined at line 1\)/ },
  { name: 'unknown directive', src: '.wrod 5', line: 1, at: '.wrod', message: /unknown directive '.wrod'/ },
  { name: 'branch range', src: 'c.beqz a0, far\n.skip 300\nfar: nop', line: 1, at: 'c.beqz', message: /c.beqz target out of range \(offset 302\)/ },
  { name: 'jump range', src: 'jal ra, far\n.skip 0x100000\nfar: nop', line: 1, at: 'jal', message: /jump target out of range: offset 1048580 is beyond ±1 MiB/ },
  { name: 'C off', src: '.option norvc\nc.nop', line: 2, at: 'c.nop', message: /c.nop needs the C extension, which .option norvc turned off/ },
  { name: 'C off, c.unimp', src: '.option norvc\nc.unimp', line: 2, at: 'c.unimp', message: /c.unimp needs the C extension, which .option norvc turned off/ },
  { name: 'unknown CSR', src: 'csrr a0, mstatsu', line: 1, at: 'mstatsu', message: /csrr: unknown CSR 'mstatsu'/ },
  { name: 'CSR range', src: 'csrr a0, 4096', line: 1, at: '4096', message: /CSR number 4096 out of range: expected 0..4095/ },
  { name: 'fence set', src: 'fence rw, wr', line: 1, at: 'wr', message: /expected a fence set made of i, o, r, w in that order, got 'wr'/ },
  { name: 'li too big', src: 'li a0, 0x100000000', line: 1, at: '0x100000000', message: /li constant 4294967296 does not fit in 32 bits/ },
  { name: 'li label', src: 'li a0, x\nx: nop', line: 1, at: 'x', message: /li needs a constant known at this point; use la for an address/ },
  { name: 'pcrel_lo without auipc', src: 'x: nop\naddi a0, a0, %pcrel_lo(x)', line: 2, at: 'addi', message: /%pcrel_lo must name the label of an auipc with %pcrel_hi/ },
  { name: 'wrong relocation', src: 'addi a0, a0, %hi(x)\nx: nop', line: 1, at: '%hi(x)', message: /addi accepts %lo or %pcrel_lo here/ },
  { name: 'unknown relocation', src: 'lui a0, %high(x)', line: 1, at: '%high(x)', message: /unknown relocation operator '%high'/ },
  { name: 'unclosed paren', src: 'li a0, (1 + 2', line: 1, at: '(1 + 2', message: /expected '\)' to close the parenthesis/ },
  { name: 'division by zero', src: '.word 1 / 0', line: 1, at: '/', message: /division by zero/ },
  { name: 'string expected', src: '.ascii hello', line: 1, at: 'hello', message: /.ascii expects a string in double quotes/ },
  { name: 'byte truncation', src: '.byte 256', line: 1, at: '256', message: /.byte value 256 truncated to 8 bits/, severity: 'warning' },
  { name: 'align range', src: '.align 40', line: 1, at: '.align', message: /.align 40 out of range/ },
  { name: 'balign power of two', src: '.balign 3', line: 1, at: '.balign', message: /.balign 3 is not a power of two/ },
  { name: 'unknown option', src: '.option fast', line: 1, at: '.option', message: /unknown .option 'fast'/ },
  { name: 'option pop', src: '.option pop', line: 1, at: '.option', message: /.option pop without a matching .option push/ },
  { name: 'endif without if', src: 'nop\n.endif', line: 2, at: '.endif', message: /.endif without a matching .if/ },
  { name: 'else after else', src: '.if 1\n.else\n.else\n.endif', line: 3, at: '.else', message: /.else after .else/ },
  { name: 'if without endif', src: '.if 1\nnop', line: 2, at: 'nop', message: /.if without a matching .endif/ },
  { name: 'if needs constant', src: '.if later\n.endif\nlater: nop', line: 1, at: 'later', message: /the operand of .if must be a constant known here; 'later' is not defined yet/ },
  { name: 'macro without endm', src: '.macro m\nnop', line: 1, at: '.macro', message: /.macro without a matching .endm/ },
  { name: 'macro required argument', src: '.macro m a:req\n.word \\a\n.endm\nm', line: 4, at: 'm', message: /missing value for required argument 'a' of macro 'm'/ },
  { name: 'macro too many arguments', src: '.macro m a\n.endm\nm 1, 2', line: 3, at: 'm', message: /too many arguments for macro 'm': it takes 1/ },
  { name: 'error inside macro', src: '.macro m\naddi a0, a0, 5000\n.endm\n  m', line: 4, at: 'm', message: /out of range for addi.*\(in expansion of macro 'm'\)/ },
  { name: 'rept without endr', src: '.rept 2\nnop', line: 1, at: '.rept', message: /.rept\/.irp without a matching .endr/ },
  { name: 'include without reader', src: '.include "x.S"', line: 1, at: '.include', message: /cannot read 'x.S': no file reader was given/ },
  { name: 'include not found', src: '.include "x.S"', line: 1, at: '.include', message: /cannot find 'x.S' \(searched 'x.S', 'inc\/x.S'\)/, reader: { read: () => undefined } },
  { name: 'error in included file', src: 'nop\n.include "inc.S"', line: 2, at: 'bogus', message: /unknown instruction 'bogus'/, reader: { read: (p) => (p === 'inc.S' ? 'nop\n  bogus' : undefined) } },
  { name: 'incbin range', src: '.incbin "b.bin", 10', line: 1, at: '.incbin', message: /.incbin skip 10 is beyond the file's 4 bytes/, reader: { read: () => new Uint8Array(4) } },
  { name: 'user .error', src: '.error "stop here"', line: 1, at: '.error', message: /stop here/ },
  { name: 'equ cycle', src: '.equ a, b + 1\n.equ b, a + 1\n.word a', line: 3, at: 'a', message: /symbol 'a' has no value \(circular or undefined definition\)/ },
  { name: 'bss contents', src: '.bss\n.word 5', line: 2, at: '.word', message: /section .bss holds no data: contents ignored/, severity: 'warning' },
  { name: 'statement garbage', src: '@@@', line: 1, at: '@@@', message: /expected a label, directive or instruction, found '@@@'/ },
  { name: 'mem operand', src: 'lw a0, 4(foo)', line: 1, at: '4(foo)', message: /lw: expected a memory operand offset\(reg\), got '4\(foo\)'/ },
  { name: 'amo offset', src: 'lr.w a0, 4(a1)', line: 1, at: '4(a1)', message: /expected \(reg\) or 0\(reg\), got '4\(a1\)'/ },
];

describe('diagnostics', () => {
  for (const c of CASES) {
    it(c.name, () => {
      const file = c.name === 'error in included file' ? 'inc.S' : 'main.S';
      const r = assemble(c.src, { file: 'main.S', reader: c.reader, includeDirs: ['inc'] });
      const d = r.diagnostics.find((x) => c.message.test(x.message));
      expect(d, `diagnostics were: ${JSON.stringify(r.diagnostics)}`).toBeDefined();
      const lines = c.name === 'error in included file' ? 'nop\n  bogus'.split('\n') : c.src.split('\n');
      const text = lines[c.line - 1];
      expect(d!.file).toBe(file);
      expect(d!.line).toBe(c.line);
      expect(d!.column).toBe(text.indexOf(c.at) + 1);
      expect(d!.length).toBe(c.at.length);
      expect(d!.severity).toBe(c.severity ?? 'error');
      if ((c.severity ?? 'error') === 'error') expect(r.elf).toBeUndefined();
    });
  }

  // A pasted blob is one long "instruction": the message quotes its start and says how long it is,
  // while the location still spans all of it (the editor underlines the whole word).
  it('cuts quoted source text longer than 80 characters', () => {
    const word = 'x'.repeat(2_000_000);
    const r = assemble(`nop\n  ${word} a0, a1\n  ${'y'.repeat(80)}`, { file: 'main.S' });
    expect(r.diagnostics.map((d) => [d.line, d.column, d.length, d.message])).toEqual([
      [2, 3, 2_000_000, `unknown instruction '${'x'.repeat(60)}...' (2000000 characters)`],
      [3, 3, 80, `unknown instruction '${'y'.repeat(80)}'`],
    ]);
  });
});

describe('robustness', () => {
  const programs = ['uart.S', 'trap.S', 'pagetable.S'].map((n) => readFileSync(join(__dirname, 'programs', n), 'utf8'));

  it('never throws on random text', () => {
    const next = rng(1234);
    const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789 \t\n,.:;()%"\'#/*+-<>=!&|^~\\@$[]{}xXaA_';
    for (let i = 0; i < 400; i++) {
      let s = '';
      const n = next(300);
      for (let k = 0; k < n; k++) s += alphabet[next(alphabet.length)];
      const r = assemble(s, { file: 'fuzz.S' });
      expect(Array.isArray(r.diagnostics)).toBe(true);
      expect(r.diagnostics.every((d) => !d.message.startsWith('internal assembler error')), JSON.stringify(s)).toBe(true);
    }
  });

  it('never throws on truncated and mutated real programs', () => {
    const next = rng(77);
    for (const p of programs) {
      for (let cut = 0; cut < p.length; cut += Math.max(1, Math.floor(p.length / 150))) {
        const r = assemble(p.slice(0, cut), { file: 'cut.S' });
        expect(r.diagnostics.every((d) => !d.message.startsWith('internal assembler error'))).toBe(true);
      }
      for (let i = 0; i < 100; i++) {
        const at = next(p.length);
        const mutated = p.slice(0, at) + String.fromCharCode(32 + next(95)) + p.slice(at + 1 + next(3));
        const r = assemble(mutated, { file: 'mut.S' });
        expect(r.diagnostics.every((d) => !d.message.startsWith('internal assembler error'))).toBe(true);
      }
    }
  });

  it('stops runaway macro recursion and .rept with a diagnostic', () => {
    const r = assemble('.macro m\nm\n.endm\nm\n.rept 100000000\nnop\n.endr', { file: 'r.S' });
    expect(r.diagnostics.some((d) => /nested more than 100 levels/.test(d.message))).toBe(true);
  });
});
