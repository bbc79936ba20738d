// Operand parsing for instruction statements: splitting at top-level commas and reading each
// operand as a register, memory reference, CSR, fence set or expression.

import { REG_BY_NAME } from '../isa/registers';
import { CSR_BY_NAME } from '../isa/csr-names';
import { Cursor } from './lexer';
import { parseExpr, ExprError, type Expr, type ExprHooks } from './expr';

/** An operand's text and the absolute 0-based column where it starts. */
export interface RawOperand {
  readonly text: string;
  readonly col: number;
}

/** Splits operand text at commas outside parentheses and quotes. */
export function splitOperands(text: string, col: number): RawOperand[] {
  const out: RawOperand[] = [];
  if (text.trim() === '') return out;
  let depth = 0;
  let start = 0;
  let quote = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 0x2c;
    if (quote) {
      if (c === 0x5c) i++;
      else if (c === quote) quote = 0;
      continue;
    }
    if (c === 0x22) quote = c;
    else if (c === 0x28) depth++;
    else if (c === 0x29) depth--;
    else if (c === 0x2c && (depth <= 0 || i === text.length)) {
      const raw = text.slice(start, i);
      const lead = raw.length - raw.trimStart().length;
      out.push({ text: raw.trim(), col: col + start + lead });
      start = i + 1;
      depth = 0;
    }
  }
  return out;
}

/** Register number of an operand that is exactly a register name, else undefined. */
export function parseReg(op: RawOperand): number | undefined {
  return REG_BY_NAME.get(op.text);
}

/** A memory operand `offset(reg)` / `(reg)`: the offset expression (undefined when omitted). */
export interface MemOperand {
  readonly offset: Expr | undefined;
  readonly reg: number;
  readonly regCol: number;
}

/** Parses `expr(reg)` or `(reg)`; undefined when the operand does not have that shape. */
export function parseMem(op: RawOperand, hooks: ExprHooks): MemOperand | undefined {
  const t = op.text;
  if (!t.endsWith(')')) return undefined;
  const open = t.lastIndexOf('(');
  if (open < 0) return undefined;
  const inner = t.slice(open + 1, -1).trim();
  const reg = REG_BY_NAME.get(inner);
  if (reg === undefined) return undefined;
  const before = t.slice(0, open);
  const regCol = op.col + open + 1 + (t.slice(open + 1).length - t.slice(open + 1).trimStart().length);
  if (before.trim() === '') return { offset: undefined, reg, regCol };
  const cur = new Cursor(before, op.col);
  const offset = parseExpr(cur, hooks);
  if (!cur.eol()) throw new ExprError(`unexpected '${cur.rest()}' in memory operand`, cur.column(), cur.rest().length);
  return { offset, reg, regCol };
}

/** Parses a whole operand as one expression; throws ExprError. */
export function parseOperandExpr(op: RawOperand, hooks: ExprHooks): Expr {
  const cur = new Cursor(op.text, op.col);
  const e = parseExpr(cur, hooks);
  if (!cur.eol()) throw new ExprError(`unexpected '${cur.rest()}' after expression`, cur.column(), cur.rest().length);
  return e;
}

/** Fence set bits (i=8, o=4, r=2, w=1) of an operand spelled in GNU's canonical order, else undefined. */
export function parseFenceSet(op: RawOperand): number | undefined {
  if (!/^i?o?r?w?$/.test(op.text) || op.text === '') return undefined;
  let v = 0;
  for (const ch of op.text) v |= { i: 8, o: 4, r: 2, w: 1 }[ch as 'i' | 'o' | 'r' | 'w'];
  return v;
}

/** CSR number of a CSR name operand, else undefined (numbers are parsed as expressions). */
export function csrByName(op: RawOperand): number | undefined {
  return CSR_BY_NAME.get(op.text);
}
