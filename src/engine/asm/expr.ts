// GNU as expressions (as manual, "Expressions"): integers, symbols, `.`, character constants,
// numeric local label references (1b/1f), unary - ~ !, and the infix operators in GNU's four
// precedence levels; comparisons yield -1 for true. RISC-V adds %hi, %lo, %pcrel_hi, %pcrel_lo.
// Arithmetic is 64-bit two's complement as on GNU's 64-bit host.

import { Cursor, isIdentPart } from './lexer';

/** A relocation operator applied to an expression. */
export type RelocFn = 'hi' | 'lo' | 'pcrel_hi' | 'pcrel_lo';

/** Expression tree. `col` is the absolute 0-based column where the node starts. */
export type Expr =
  | { readonly t: 'num'; readonly v: bigint; readonly col: number }
  | { readonly t: 'sym'; readonly name: string; readonly col: number; readonly len: number }
  | { readonly t: 'un'; readonly op: string; readonly a: Expr; readonly col: number }
  | { readonly t: 'bin'; readonly op: string; readonly a: Expr; readonly b: Expr; readonly col: number }
  | { readonly t: 'reloc'; readonly fn: RelocFn; readonly a: Expr; readonly col: number };

/** A parse failure: message and absolute column. */
export class ExprError {
  constructor(readonly message: string, readonly col: number, readonly len = 1) {}
}

/** Hooks the parser needs from the assembler. */
export interface ExprHooks {
  /** Name for a numeric local label reference (`1b` / `1f`). */
  localRef(n: number, forward: boolean): string;
  /** Name of a symbol standing for the current location `.`. */
  here(): string;
}

const LEVELS: readonly (readonly string[])[] = [
  ['||'],
  ['&&'],
  ['==', '!=', '<>', '<=', '>=', '<', '>', '+', '-'],
  ['|', '&', '^', '!'],
  ['*', '/', '%', '<<', '>>'],
];

/** Parses an expression at the cursor; throws ExprError. */
export function parseExpr(cur: Cursor, hooks: ExprHooks): Expr {
  return level(cur, hooks, 0);
}

function level(cur: Cursor, hooks: ExprHooks, n: number): Expr {
  if (n === LEVELS.length) return unary(cur, hooks);
  let a = level(cur, hooks, n + 1);
  for (;;) {
    cur.ws();
    const op = matchOp(cur, LEVELS[n]);
    if (!op) return a;
    const col = cur.column();
    cur.p += op.length;
    const b = level(cur, hooks, n + 1);
    a = { t: 'bin', op, a, b, col };
  }
}

function matchOp(cur: Cursor, ops: readonly string[]): string | undefined {
  const s = cur.s;
  const p = cur.p;
  let best: string | undefined;
  for (const op of ops) if (s.startsWith(op, p) && (!best || op.length > best.length)) best = op;
  if (!best) return undefined;
  // `<`/`>` must not steal `<<`/`>>` or `<=`; `|`/`&` must not steal `||`/`&&`; `!` not `!=`.
  const next = s.slice(p, p + 2);
  if (best.length === 1 && ['<<', '>>', '<=', '>=', '||', '&&', '!=', '<>'].includes(next) && !ops.includes(next)) return undefined;
  return best;
}

function unary(cur: Cursor, hooks: ExprHooks): Expr {
  cur.ws();
  const col = cur.column();
  const c = cur.peek();
  if (c === 0x2d || c === 0x7e || c === 0x21 || c === 0x2b) {
    cur.p++;
    const a = unary(cur, hooks);
    return c === 0x2b ? a : { t: 'un', op: String.fromCharCode(c), a, col };
  }
  return primary(cur, hooks);
}

function primary(cur: Cursor, hooks: ExprHooks): Expr {
  cur.ws();
  const s = cur.s;
  const col = cur.column();
  const c = cur.peek();
  if (c < 0) throw new ExprError('missing expression', col);
  if (c === 0x28) {
    cur.p++;
    const e = level(cur, hooks, 0);
    if (!cur.eat(')')) throw new ExprError("expected ')' to close the parenthesis", cur.column());
    return e;
  }
  if (c === 0x25 /* % */) {
    cur.p++;
    const name = cur.ident();
    if (!['hi', 'lo', 'pcrel_hi', 'pcrel_lo'].includes(name)) {
      throw new ExprError(`unknown relocation operator '%${name}': expected %hi, %lo, %pcrel_hi or %pcrel_lo`, col, name.length + 1);
    }
    if (!cur.eat('(')) throw new ExprError(`expected '(' after %${name}`, cur.column());
    const a = level(cur, hooks, 0);
    if (!cur.eat(')')) throw new ExprError(`expected ')' to close %${name}(`, cur.column());
    return { t: 'reloc', fn: name as RelocFn, a, col };
  }
  if (c === 0x27 /* ' */) {
    // Character constant: 'c or 'c' or '\n'.
    let p = cur.p + 1;
    let v: number;
    if (s[p] === '\\') {
      const e = s[p + 1];
      const map: Record<string, number> = { n: 10, t: 9, r: 13, b: 8, f: 12, v: 11, a: 7, '\\': 92, "'": 39, '"': 34, '0': 0 };
      if (e === undefined) throw new ExprError('unterminated character constant', col);
      v = map[e] ?? e.charCodeAt(0);
      p += 2;
    } else {
      if (p >= s.length) throw new ExprError('unterminated character constant', col);
      v = s.codePointAt(p)!;
      p += v > 0xffff ? 2 : 1;
    }
    if (s[p] === "'") p++;
    cur.p = p;
    return { t: 'num', v: BigInt(v), col };
  }
  if (c >= 0x30 && c <= 0x39) return number(cur, hooks, col);
  if (c === 0x2e && !isIdentPart(s.charCodeAt(cur.p + 1))) {
    cur.p++;
    return { t: 'sym', name: hooks.here(), col, len: 1 };
  }
  const name = cur.ident();
  if (name) return { t: 'sym', name, col, len: name.length };
  throw new ExprError(`unexpected '${s[cur.p]}' in expression`, col);
}

function number(cur: Cursor, hooks: ExprHooks, col: number): Expr {
  const s = cur.s;
  const start = cur.p;
  let j = start;
  while (j < s.length && isIdentPart(s.charCodeAt(j))) j++;
  const word = s.slice(start, j);
  cur.p = j;
  const local = /^([0-9]+)([bf])$/.exec(word);
  if (local && !(word.startsWith('0b') && word.length > 2)) {
    return { t: 'sym', name: hooks.localRef(Number(local[1]), local[2] === 'f'), col, len: word.length };
  }
  let v: bigint | undefined;
  try {
    if (/^0[xX][0-9a-fA-F]+$/.test(word)) v = BigInt(word);
    else if (/^0[bB][01]+$/.test(word)) v = BigInt(word);
    else if (/^0[0-7]*$/.test(word)) v = BigInt('0o' + (word.slice(1) || '0'));
    else if (/^[1-9][0-9]*$/.test(word)) v = BigInt(word);
  } catch {
    v = undefined;
  }
  if (v === undefined) throw new ExprError(`malformed number '${word}'`, col, word.length);
  return { t: 'num', v: BigInt.asIntN(64, v), col };
}

/** What a symbol stands for while evaluating. */
export type SymbolLookup = (name: string) => bigint | undefined;

/** Evaluation failure: a symbol without a value yet (or at all), or a misplaced relocation. */
export class EvalError {
  constructor(readonly message: string, readonly col: number, readonly len: number, readonly symbol?: string) {}
}

/** Evaluates an expression; relocation operators are delegated to `reloc`. Throws EvalError. */
export function evaluate(e: Expr, lookup: SymbolLookup, reloc?: (fn: RelocFn, a: Expr) => bigint): bigint {
  switch (e.t) {
    case 'num':
      return e.v;
    case 'sym': {
      const v = lookup(e.name);
      if (v === undefined) throw new EvalError(`symbol '${displayName(e.name)}' has no value here`, e.col, e.len, e.name);
      return v;
    }
    case 'reloc':
      if (!reloc) throw new EvalError(`%${e.fn} is not allowed here`, e.col, e.fn.length + 1);
      return reloc(e.fn, e.a);
    case 'un': {
      const a = evaluate(e.a, lookup, reloc);
      if (e.op === '-') return BigInt.asIntN(64, -a);
      if (e.op === '~') return BigInt.asIntN(64, ~a);
      return a === 0n ? 1n : 0n;
    }
    case 'bin': {
      const a = evaluate(e.a, lookup, reloc);
      const b = evaluate(e.b, lookup, reloc);
      return BigInt.asIntN(64, binary(e.op, a, b, e.col));
    }
  }
}

function binary(op: string, a: bigint, b: bigint, col: number): bigint {
  switch (op) {
    case '+': return a + b;
    case '-': return a - b;
    case '*': return a * b;
    case '/':
    case '%':
      if (b === 0n) throw new EvalError('division by zero', col, 1);
      return op === '/' ? a / b : a % b;
    case '<<': return b >= 64n || b < 0n ? 0n : a << b;
    case '>>': return b >= 64n || b < 0n ? (a < 0n ? -1n : 0n) : a >> b;
    case '|': return a | b;
    case '&': return a & b;
    case '^': return a ^ b;
    case '!': return a | ~b;
    case '==': return a === b ? -1n : 0n;
    case '!=':
    case '<>': return a !== b ? -1n : 0n;
    case '<': return a < b ? -1n : 0n;
    case '>': return a > b ? -1n : 0n;
    case '<=': return a <= b ? -1n : 0n;
    case '>=': return a >= b ? -1n : 0n;
    case '&&': return a !== 0n && b !== 0n ? 1n : 0n;
    default: return a !== 0n || b !== 0n ? 1n : 0n;
  }
}

/** A symbol name as the user wrote it (numeric local labels are stored as N\u0002k). */
export function displayName(name: string): string {
  const i = name.indexOf('\u0002');
  return i < 0 ? name : name.slice(0, i);
}

/** The symbol and constant offset of `sym`, `sym + c` or `sym - c`, when the expression has that shape. */
export function symbolPlusOffset(e: Expr, constant: (x: Expr) => bigint | undefined): { sym: string; off: bigint } | undefined {
  if (e.t === 'sym') return { sym: e.name, off: 0n };
  if (e.t === 'bin' && (e.op === '+' || e.op === '-')) {
    const left = symbolPlusOffset(e.a, constant);
    const rc = constant(e.b);
    if (left && rc !== undefined) return { sym: left.sym, off: e.op === '+' ? left.off + rc : left.off - rc };
    if (e.op === '+') {
      const right = symbolPlusOffset(e.b, constant);
      const lc = constant(e.a);
      if (right && lc !== undefined) return { sym: right.sym, off: right.off + lc };
    }
  }
  return undefined;
}

/** True when the tree contains a relocation operator. */
export function hasReloc(e: Expr): boolean {
  if (e.t === 'reloc') return true;
  if (e.t === 'un') return hasReloc(e.a);
  if (e.t === 'bin') return hasReloc(e.a) || hasReloc(e.b);
  return false;
}
