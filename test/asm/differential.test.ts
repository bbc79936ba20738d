// Differential tests against GNU as 2.40 (Debian binutils-riscv64-unknown-elf): the generated
// corpus (every table entry, pseudo-instruction and directive), with and without C.

import { afterAll, describe, expect, it } from 'vitest';
import { compareWithGnu } from './compare';
import { directiveLines, program, pseudoLines, tableLines, textDirectiveLines, type CorpusLine } from './corpus';

const totals = { lines: 0, insns: 0, passed: 0, failed: 0 };

function check(name: string, code: CorpusLine[], rvc: boolean): void {
  it(`${name} (${rvc ? 'rvc' : 'norvc'})`, () => {
    const c = compareWithGnu(program(code, rvc, 'mine'), program(code, rvc, 'gnu'));
    c.gnu.cleanup();
    totals.lines += c.lines;
    totals.insns += c.insns;
    totals[c.ok ? 'passed' : 'failed']++;
    expect(c.report).toBe('');
  });
}

describe('vmlab assembler vs GNU as', () => {
  for (const rvc of [true, false]) {
    check('every table entry, spread operands', tableLines(rvc ? 11 : 12, 14, rvc), rvc);
    check('every table entry, second seed', tableLines(rvc ? 21 : 22, 10, rvc), rvc);
    check('pseudo-instructions and aliases', pseudoLines(), rvc);
    check('code-section directives, macros, conditionals', textDirectiveLines(), rvc);
  }
  afterAll(() => {
    console.log(`differential corpus: ${totals.lines} lines, ${totals.insns} instructions, ${totals.passed} programs passed, ${totals.failed} failed (data directives: ${directiveLines().length} lines per program)`);
  });
});
