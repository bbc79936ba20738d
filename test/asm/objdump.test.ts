// Differential disassembly: vmlab's disassembleElf against riscv64-unknown-elf-objdump -d on the
// same GNU-linked executables (default aliases; whitespace normalised).

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { disassembleElf } from '../../src/engine/asm/index';
import { gnuBuild, normalizeListing } from './oracle';
import { program, pseudoLines, tableLines, textDirectiveLines, type CorpusLine } from './corpus';

function check(name: string, code: CorpusLine[], rvc: boolean): void {
  it(`${name} (${rvc ? 'rvc' : 'norvc'})`, () => {
    // Xsensitive encodings are custom-0: objdump has no names for them, vmlab does.
    const src = program(code.filter((l) => !l.gnu.startsWith('.insn')), rvc, 'gnu');
    const g = gnuBuild(src);
    const theirs = normalizeListing(g.objdump());
    const ours = normalizeListing(disassembleElf(g.elf));
    g.cleanup();
    const diffs: string[] = [];
    for (let i = 0; i < Math.max(theirs.length, ours.length) && diffs.length < 15; i++) {
      if (theirs[i] !== ours[i]) diffs.push(`objdump: ${theirs[i]}\nvmlab:   ${ours[i]}`);
    }
    expect(diffs.join('\n')).toBe('');
    expect(ours.length).toBeGreaterThan(30);
  });
}

describe('vmlab disassembler vs objdump -d', () => {
  for (const rvc of [true, false]) {
    check('every table entry', tableLines(rvc ? 31 : 32, 12, rvc), rvc);
    check('pseudo-instructions', pseudoLines(), rvc);
    check('code-section directives', textDirectiveLines(), rvc);
  }
});

describe('vmlab disassembler vs objdump -d on realistic programs', () => {
  // Absolute (.equ) symbols share values with labels and name addresses outside every section.
  it.each(['uart.S', 'trap.S', 'pagetable.S'])('%s', (name) => {
    const g = gnuBuild(readFileSync(join(__dirname, 'programs', name), 'utf8'));
    const theirs = normalizeListing(g.objdump());
    const ours = normalizeListing(disassembleElf(g.elf));
    g.cleanup();
    expect(ours).toEqual(theirs);
    expect(ours.length).toBeGreaterThan(30);
  });
});
