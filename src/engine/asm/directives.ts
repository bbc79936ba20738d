// Assembler directives (GNU as manual, "Assembler Directives"; RISC-V specifics from the
// "RISC-V Dependent Features" chapter: .align is a power of two, .option rvc/norvc/push/pop).

import { readString, Cursor } from './lexer';
import { parseExpr, ExprError, type Expr } from './expr';
import { splitOperands } from './operands';
import { irpLines, reptLines } from './source';
import { utf8Decode } from './utf8';
import type { Assembler } from './assembler';
import type { Loc } from './state';

type Handler = (a: Assembler, cur: Cursor, at: Loc, name: string) => void;

function exprList(a: Assembler, cur: Cursor, at: Loc): Expr[] | undefined {
  const out: Expr[] = [];
  if (cur.eol()) return out;
  try {
    for (;;) {
      out.push(parseExpr(cur, a.hooks));
      if (cur.eol()) return out;
      if (!cur.eat(',')) throw new ExprError(`expected ',' or end of line, found '${cur.rest()}'`, cur.column(), cur.rest().length);
    }
  } catch (err) {
    if (!(err instanceof ExprError)) throw err;
    a.error({ ...at, col: err.col, len: err.len }, err.message);
    return undefined;
  }
}

function oneExpr(a: Assembler, cur: Cursor, at: Loc, name: string): bigint | undefined {
  const list = exprList(a, cur, at);
  if (!list) return undefined;
  if (list.length !== 1) {
    a.error(at, `${name} takes one expression`);
    return undefined;
  }
  return a.requireConstant(list[0], at, `the operand of ${name}`);
}

function data(width: 1 | 2 | 4 | 8): Handler {
  return (a, cur, at, name) => {
    if (cur.eol()) return;
    // One element at a time, so that `.` in an element is that element's own address.
    for (;;) {
      let e: Expr;
      cur.ws();
      const start = cur.column();
      try {
        e = parseExpr(cur, a.hooks);
      } catch (err) {
        if (!(err instanceof ExprError)) throw err;
        return a.error({ ...at, col: err.col, len: err.len }, err.message);
      }
      const v = a.constant(e);
      if (v === undefined) {
        a.noteUses(e, at);
        a.push({ k: 'data', size: width, width, expr: e, loc: at }, false);
      } else {
        const bits = BigInt(width * 8);
        if (width < 8 && (v >= 1n << bits || v < -(1n << (bits - 1n)))) {
          a.warn({ ...at, col: start, len: cur.s.slice(start - cur.col, cur.p).trimEnd().length }, `${name} value ${v} truncated to ${width * 8} bits`);
        }
        const bytes = new Uint8Array(width);
        let u = BigInt.asUintN(width * 8, v);
        for (let i = 0; i < width; i++, u >>= 8n) bytes[i] = Number(u & 0xffn);
        a.emitData(bytes, at);
      }
      if (cur.eol()) return;
      if (!cur.eat(',')) return a.error({ ...at, col: cur.column(), len: cur.rest().length }, `expected ',' or end of line, found '${cur.rest()}'`);
    }
  };
}

function strings(zero: boolean): Handler {
  return (a, cur, at, name) => {
    const out: number[] = [];
    do {
      cur.ws();
      const col = cur.column();
      const s = readString(cur);
      if (!s) return a.error({ ...at, col, len: Math.max(1, cur.rest().length) }, `${name} expects a string in double quotes`);
      out.push(...s);
      if (zero) out.push(0);
    } while (cur.eat(','));
    if (!cur.eol()) return a.error({ ...at, col: cur.column(), len: cur.rest().length }, `unexpected '${cur.rest()}' after string`);
    a.emitData(Uint8Array.from(out), at);
  };
}

function space(a: Assembler, cur: Cursor, at: Loc, name: string): void {
  const list = exprList(a, cur, at);
  if (!list || list.length < 1 || list.length > 2) return void (list && a.error(at, `${name} takes a size and an optional fill byte`));
  const n = a.requireConstant(list[0], at, `the size of ${name}`);
  const fill = list[1] ? a.requireConstant(list[1], at, `the fill of ${name}`) : 0n;
  if (n === undefined || fill === undefined) return;
  if (n < 0n || n > 0x10000000n) return a.error(at, `${name} size ${n} out of range: expected 0..268435456`);
  if (n > 0n) a.push({ k: 'space', size: Number(n), fill: Number(fill & 0xffn), loc: at }, false);
}

function fill(a: Assembler, cur: Cursor, at: Loc): void {
  const list = exprList(a, cur, at);
  if (!list || list.length < 1 || list.length > 3) return void (list && a.error(at, '.fill takes repeat[, size[, value]]'));
  const vals = list.map((e, i) => a.requireConstant(e, at, ['the repeat count', 'the size', 'the value'][i] + ' of .fill'));
  if (vals.some((v) => v === undefined)) return;
  const [rep, size = 1n, value = 0n] = vals as bigint[];
  if (rep < 0n || rep * (size > 8n ? 8n : size) > 0x10000000n) return a.error(at, `.fill repeat ${rep} out of range`);
  const sz = Number(size > 8n ? 8n : size < 0n ? 0n : size);
  const out = new Uint8Array(Number(rep) * sz);
  for (let r = 0; r < Number(rep); r++) {
    let u = BigInt.asUintN(64, value);
    for (let i = 0; i < sz; i++, u >>= 8n) out[r * sz + i] = i < 4 ? Number(u & 0xffn) : 0;
  }
  a.emitData(out, at);
}

function align(mode: 'pow' | 'bytes'): Handler {
  return (a, cur, at, name) => {
    const raw = splitOperands(cur.s.slice(cur.p), cur.col + cur.p);
    const vals: (bigint | undefined)[] = [];
    for (let i = 0; i < raw.length; i++) {
      if (raw[i].text === '') {
        vals.push(undefined);
        continue;
      }
      const c = new Cursor(raw[i].text, raw[i].col);
      const v = oneExpr(a, c, at, name);
      if (v === undefined) return;
      vals.push(v);
    }
    if (vals.length < 1 || vals[0] === undefined) return a.error(at, `${name} needs an alignment`);
    let pow: number;
    if (mode === 'pow') {
      if (vals[0] < 0n || vals[0] > 16n) return a.error(at, `${name} ${vals[0]} out of range: expected a power of two exponent 0..16`);
      pow = Number(vals[0]);
    } else {
      const n = vals[0];
      if (n <= 0n || (n & (n - 1n)) !== 0n || n > 65536n) return a.error(at, `${name} ${n} is not a power of two in 1..65536`);
      pow = n.toString(2).length - 1;
    }
    const fillV = vals[1];
    const max = vals[2] === undefined ? 1 << 30 : Number(vals[2]);
    const s = a.cur;
    if (vals[2] === undefined) s.alignPow = Math.max(s.alignPow, pow);
    const code = s.code && fillV === undefined;
    // tc-riscv.c riscv_frag_align_code: code is assumed aligned to the instruction size (2 with C,
    // 4 without), so a smaller code alignment pads nothing; the alignment is still recorded.
    if (code && 2 ** pow <= (a.rvc ? 2 : 4)) {
      s.alignPow = Math.max(s.alignPow, pow);
      return;
    }
    a.push({ k: 'align', size: 0, pow, fill: fillV === undefined ? undefined : Number(fillV & 0xffn), fillSize: 1, max, code, loc: at }, code);
  };
}

function section(a: Assembler, cur: Cursor, at: Loc): void {
  const raw = splitOperands(cur.s.slice(cur.p), cur.col + cur.p);
  const name = raw[0]?.text.replace(/^"(.*)"$/, '$1');
  if (!name) return a.error(at, '.section needs a name');
  let flags: string | undefined;
  let nobits: boolean | undefined;
  if (raw[1]) {
    const m = /^"([a-zA-Z?]*)"$/.exec(raw[1].text);
    if (!m) return a.error({ ...at, col: raw[1].col, len: raw[1].text.length }, `.section flags must be a quoted string of a, w, x, e.g. "ax"`);
    flags = m[1];
  }
  if (raw[2]) nobits = /nobits/.test(raw[2].text);
  a.switchSection(name, flags, nobits);
}

function symbolsList(a: Assembler, cur: Cursor, at: Loc, apply: (name: string) => void, name: string): void {
  for (const o of splitOperands(cur.s.slice(cur.p), cur.col + cur.p)) {
    if (!/^[A-Za-z_.$][\w.$]*$/.test(o.text)) return a.error({ ...at, col: o.col, len: Math.max(1, o.text.length) }, `${name} expects symbol names, got '${o.text}'`);
    apply(o.text);
  }
}

function set(a: Assembler, cur: Cursor, at: Loc, name: string): void {
  const sym = cur.ident();
  if (!sym) return a.error(at, `${name} needs a symbol name`);
  if (!cur.eat(',')) return a.error({ ...at, col: cur.column(), len: 1 }, `expected ',' after the symbol name in ${name}`);
  const list = exprList(a, cur, at);
  if (!list || list.length !== 1) return void (list && a.error(at, `${name} takes one expression`));
  const s = a.sym(sym);
  if (s.kind === 'label' || (name === '.equiv' && s.kind === 'equ')) return a.error(at, `symbol '${sym}' is already defined`);
  const e = list[0];
  const v = a.constant(e);
  s.kind = 'equ';
  s.defLoc = at;
  s.value = v;
  s.expr = v === undefined ? e : undefined;
  if (v === undefined) a.noteUses(e, at);
}

function option(a: Assembler, cur: Cursor, at: Loc): void {
  const word = cur.rest();
  switch (word.split(/[\s,]+/)[0]) {
    case 'rvc': a.rvc = true; return;
    case 'norvc': a.rvc = false; return;
    case 'push': a.optionStack.push(a.rvc); return;
    case 'pop':
      if (!a.optionStack.length) return a.error(at, '.option pop without a matching .option push');
      a.rvc = a.optionStack.pop()!;
      return;
    case 'arch': {
      const m = /arch\s*,\s*([+-])c\b/.exec(word);
      if (m) a.rvc = m[1] === '+';
      else if (/arch\s*,\s*rv32\w*/.test(word)) a.rvc = /^rv32[a-z]*c/.test(word.split(/[\s,]+/)[1] ?? '') || /_c/.test(word);
      return;
    }
    case 'relax': case 'norelax': case 'pic': case 'nopic': case 'csr-check': case 'no-csr-check': return;
    default: a.error(at, `unknown .option '${word}': expected rvc, norvc, push, pop, arch, relax or norelax`);
  }
}

function condition(a: Assembler, cur: Cursor, at: Loc, name: string): void {
  if (!a.pre.active()) return a.pre.pushSkipped();
  a.pre.pushIf(testCondition(a, cur, at, name));
}

function testCondition(a: Assembler, cur: Cursor, at: Loc, name: string): boolean {
  const kind = name.replace(/^\.(else)?if/, '');
  if (kind === 'def' || kind === 'ndef' || kind === 'notdef') {
    const s = a.symbols.get(cur.ident());
    const defined = !!s && s.kind !== 'undefined';
    return kind === 'def' ? defined : !defined;
  }
  if (kind === 'b' || kind === 'nb') return (cur.rest() === '') === (kind === 'b');
  if (kind === 'c' || kind === 'nc') {
    const parts = splitOperands(cur.s.slice(cur.p), 0).map((o) => o.text.replace(/^'(.*)'$|^"(.*)"$/, '$1$2'));
    return (parts[0] === parts[1]) === (kind === 'c');
  }
  const v = oneExpr(a, cur, at, name);
  if (v === undefined) return false;
  switch (kind) {
    case '': case 'ne': return v !== 0n;
    case 'eq': return v === 0n;
    case 'gt': return v > 0n;
    case 'ge': return v >= 0n;
    case 'lt': return v < 0n;
    case 'le': return v <= 0n;
  }
  a.error(at, `unknown conditional ${name}`);
  return false;
}

function include(a: Assembler, cur: Cursor, at: Loc): void {
  const s = readString(cur);
  if (!s) return a.error(at, '.include expects a file name in double quotes');
  const path = utf8Decode(s);
  const got = a.readFile(path, at, false);
  if (got?.text !== undefined) a.pre.pushFile(got.name, got.text, at);
}

function incbin(a: Assembler, cur: Cursor, at: Loc): void {
  const s = readString(cur);
  if (!s) return a.error(at, '.incbin expects a file name in double quotes');
  let skip = 0n;
  let count: bigint | undefined;
  if (cur.eat(',')) {
    const list = exprList(a, cur, at);
    if (!list) return;
    const vals = list.map((e) => a.requireConstant(e, at, 'the skip/count of .incbin'));
    if (vals.some((v) => v === undefined)) return;
    skip = vals[0]!;
    count = vals[1];
  }
  const got = a.readFile(utf8Decode(s), at, true);
  if (!got?.bytes) return;
  if (skip < 0n || skip > BigInt(got.bytes.length)) return a.error(at, `.incbin skip ${skip} is beyond the file's ${got.bytes.length} bytes`);
  const end = count === undefined ? got.bytes.length : Number(skip + count);
  if (end > got.bytes.length || end < Number(skip)) return a.error(at, `.incbin count runs past the file's ${got.bytes.length} bytes`);
  a.emitData(got.bytes.slice(Number(skip), end), at);
}

function message(severity: 'error' | 'warning'): Handler {
  return (a, cur, at, name) => {
    const s = cur.eol() ? undefined : readString(cur);
    const text = s ? utf8Decode(s) : `${name} directive`;
    if (severity === 'error') a.error(at, text);
    else a.warn(at, text);
  };
}

function comm(local: boolean): Handler {
  return (a, cur, at, name) => {
    const sym = cur.ident();
    if (!sym || !cur.eat(',')) return a.error(at, `${name} takes a symbol, a size and an optional alignment`);
    const list = exprList(a, cur, at);
    if (!list) return;
    const vals = list.map((e) => a.requireConstant(e, at, `the size of ${name}`));
    if (vals.some((v) => v === undefined)) return;
    const size = Number(vals[0]!);
    // GNU: without an alignment, .lcomm aligns by size (TC_IMPLICIT_LCOMM_ALIGNMENT) and .comm to
    // the largest power of two not above the size, at most 16.
    let align = vals[1] !== undefined ? Number(vals[1]) : local ? (size >= 8 ? 8 : size >= 4 ? 4 : size >= 2 ? 2 : 1) : Math.min(16, 2 ** Math.floor(Math.log2(Math.max(1, size))));
    if (align < 1 || (align & (align - 1)) !== 0) align = 1;
    if (!local) {
      a.commons.push({ name: sym, size, align, loc: at });
      return;
    }
    const prev = a.cur;
    a.switchSection('.bss');
    if (align > 1) {
      const pow = Math.round(Math.log2(align));
      a.cur.alignPow = Math.max(a.cur.alignPow, pow);
      a.push({ k: 'align', size: 0, pow, fill: 0, fillSize: 1, max: 1 << 30, code: false, loc: at }, false);
    }
    a.defineLabel(sym, at);
    if (size > 0) a.push({ k: 'space', size, fill: 0, loc: at }, false);
    a.switchSection(prev.name);
  };
}

/** ELF symbol types by the names `.type` takes (GNU as: @x, %x, "x", STT_X). */
const SYMBOL_TYPES: Record<string, number> = { notype: 0, object: 1, function: 2, tls_object: 6, common: 5, gnu_indirect_function: 10, gnu_unique_object: 10 };

/** `.size SYM, EXPR`: the symbol's st_size, evaluated after layout (so `. - SYM` works). */
function size(a: Assembler, cur: Cursor, at: Loc): void {
  const name = cur.ident();
  if (!name) return a.error(at, '.size needs a symbol name');
  if (!cur.eat(',')) return a.error({ ...at, col: cur.column(), len: 1 }, "expected ',' after the symbol name in .size");
  const list = exprList(a, cur, at);
  if (!list || list.length !== 1) return void (list && a.error(at, '.size takes one expression'));
  a.sym(name).size = list[0];
  a.noteUses(list[0], at);
}

/** `.type SYM, @function` (also %function, "function", STT_FUNC, and object, notype, ...). */
function symbolType(a: Assembler, cur: Cursor, at: Loc): void {
  const name = cur.ident();
  if (!name) return a.error(at, '.type needs a symbol name');
  if (!cur.eat(',')) return a.error({ ...at, col: cur.column(), len: 1 }, "expected ',' after the symbol name in .type");
  const word = cur.rest().trim().replace(/^[@%]|^"|"$/g, '').toLowerCase().replace(/^stt_/, '');
  const type = SYMBOL_TYPES[word];
  if (type === undefined) return a.error(at, `unknown symbol type '${cur.rest().trim()}' (known: @function, @object, @notype, ...)`);
  a.sym(name).elfType = type;
}

const IGNORED = ['.file', '.loc', '.ident', '.attribute', '.hidden', '.protected', '.internal', '.func', '.endfunc', '.globaltype', '.variant_cc', '.loc_mark_labels', '.addrsig', '.addrsig_sym'];

const HANDLERS = new Map<string, Handler>([
  ['.text', (a) => a.switchSection('.text')],
  ['.data', (a) => a.switchSection('.data')],
  ['.rodata', (a) => a.switchSection('.rodata')],
  ['.bss', (a) => a.switchSection('.bss')],
  ['.section', section],
  ['.pushsection', (a, cur, at) => { a.sectionStack.push(a.cur); section(a, cur, at); }],
  ['.popsection', (a, _c, at) => { const s = a.sectionStack.pop(); if (!s) return a.error(at, '.popsection without .pushsection'); a.switchSection(s.name); }],
  ['.previous', (a, _c, at) => { if (!a.previous) return a.error(at, '.previous without an earlier section'); a.switchSection(a.previous.name); }],
  ['.globl', (a, cur, at, n) => symbolsList(a, cur, at, (s) => { a.sym(s).global = true; }, n)],
  ['.global', (a, cur, at, n) => symbolsList(a, cur, at, (s) => { a.sym(s).global = true; }, n)],
  ['.weak', (a, cur, at, n) => symbolsList(a, cur, at, (s) => { a.sym(s).global = true; }, n)],
  ['.local', (a, cur, at, n) => symbolsList(a, cur, at, (s) => { a.sym(s).global = false; }, n)],
  ['.equ', set], ['.set', set], ['.equiv', set],
  ['.size', size], ['.type', symbolType],
  ['.byte', data(1)], ['.half', data(2)], ['.short', data(2)], ['.2byte', data(2)], ['.hword', data(2)],
  ['.word', data(4)], ['.long', data(4)], ['.int', data(4)], ['.4byte', data(4)],
  ['.quad', data(8)], ['.dword', data(8)], ['.8byte', data(8)],
  ['.ascii', strings(false)], ['.asciz', strings(true)], ['.string', strings(true)],
  ['.zero', space], ['.space', space], ['.skip', space], ['.fill', fill],
  ['.align', align('pow')], ['.p2align', align('pow')], ['.balign', align('bytes')],
  ['.option', option],
  ['.include', include], ['.incbin', incbin],
  ['.macro', (a, cur, at) => a.pre.defineMacro(cur, at)],
  ['.endm', (a, _c, at) => a.error(at, '.endm without a matching .macro')],
  ['.exitm', (a, _c, at) => a.pre.exitMacro(at)],
  ['.purgem', (a, cur, at) => a.pre.purge(cur.ident(), at)],
  ['.rept', (a, cur, at, n) => {
    const v = oneExpr(a, cur, at, n);
    const count = v === undefined ? 0 : Number(v < 0n ? 0n : v > 1000000n ? 1000000n : v);
    a.pre.beginRepeat(at, (body) => reptLines(body, count));
  }],
  ['.irp', (a, cur, at) => {
    const parts = splitOperands(cur.s.slice(cur.p), 0).map((o) => o.text);
    if (!parts[0]) return a.error(at, '.irp needs a symbol name');
    a.pre.beginRepeat(at, (body) => irpLines(body, parts[0], parts.length > 1 ? parts.slice(1) : ['']));
  }],
  ['.irpc', (a, cur, at) => {
    const parts = splitOperands(cur.s.slice(cur.p), 0).map((o) => o.text);
    if (!parts[0]) return a.error(at, '.irpc needs a symbol name');
    a.pre.beginRepeat(at, (body) => irpLines(body, parts[0], [...(parts[1] ?? '')]));
  }],
  ['.endr', (a, _c, at) => a.error(at, '.endr without a matching .rept or .irp')],
  ['.else', (a, _c, at, n) => a.pre.elseIf(undefined, at, n)],
  ['.elseif', (a, cur, at, n) => a.pre.elseIf(() => testCondition(a, cur, at, '.if'), at, n)],
  ['.endif', (a, _c, at) => a.pre.endIf(at)],
  ['.end', (a) => a.pre.end()],
  ['.error', message('error')], ['.err', message('error')], ['.warning', message('warning')],
  ['.comm', comm(false)], ['.lcomm', comm(true)],
  ...IGNORED.map((d): [string, Handler] => [d, () => undefined]),
]);

/** Runs directive `name` (lower case, with the dot) on the rest of the statement. */
export function runDirective(a: Assembler, name: string, cur: Cursor, at: Loc): void {
  if (name.startsWith('.if')) return condition(a, cur, at, name);
  if (name.startsWith('.cfi_')) return;
  const h = HANDLERS.get(name);
  if (!h) return a.error(at, `unknown directive '${name}'`);
  h(a, cur, at, name);
}
