// The assembler proper: reads statements (labels, directives, instructions, macro calls) and turns
// them into section items. GNU as semantics: one pass over the source, immediates must be known
// when the instruction is read, addresses are resolved after layout (layout.ts).

import { encode, compress, type CChoice, type Fields } from '../isa/encode';
import { Op } from '../isa/opcodes';
import type { InsnDef } from '../isa/table';
import { Cursor } from './lexer';
import { evaluate, EvalError, ExprError, displayName, type Expr, type ExprHooks } from './expr';
import { csrByName, parseFenceSet, parseMem, parseOperandExpr, parseReg, splitOperands, type RawOperand } from './operands';
import { tableForm, tableMnemonics, withAqrl, type Form, type FormContext, type Value } from './forms';
import { PSEUDO } from './pseudo';
import { Diagnostics, type Fixup, type Item, type Loc, type OutputKind, type Section, type SourceFile, type Sym } from './state';
import type { SourceReader } from './types';
import { Preprocessor } from './source';
import { utf8Decode, utf8Encode } from './utf8';
import { runDirective } from './directives';

let FORMS: Map<string, Form[]> | undefined;

/** All instruction forms by mnemonic, in GNU's trial order (built once). */
export function instructionForms(): Map<string, Form[]> {
  if (FORMS) return FORMS;
  const m = new Map<string, Form[]>();
  for (const [name, def, bits] of tableMnemonics()) {
    const own = withAqrl(tableForm(def), bits);
    const p = PSEUDO.get(name);
    m.set(name, [...(p?.before ?? []), ...(m.get(name) ?? []), own, ...(p?.after ?? [])]);
  }
  for (const [name, p] of PSEUDO) if (!m.has(name)) m.set(name, [...(p.before ?? []), ...(p.after ?? [])]);
  FORMS = m;
  return m;
}

const KIND_WORDS: Record<string, string> = {
  R: 'a register', I: 'an immediate', M: 'a memory operand offset(reg)', A: 'an address (reg)', C: 'a CSR name or number',
  F: 'a fence set (i, o, r, w)', T: 'a label or address',
};

/** Classifies an output section by name (GNU ld's default script order). */
export function outputKindOf(name: string): { out: OutputKind; outName: string } {
  for (const k of ['text', 'rodata', 'data', 'bss'] as const) {
    if (name === `.${k}` || name.startsWith(`.${k}.`)) return { out: k, outName: `.${k}` };
  }
  if (name === '.sdata' || name.startsWith('.sdata.')) return { out: 'data', outName: '.data' };
  if (name === '.sbss' || name.startsWith('.sbss.')) return { out: 'bss', outName: '.bss' };
  if (name === '.srodata' || name.startsWith('.srodata.')) return { out: 'rodata', outName: '.rodata' };
  return { out: 'other', outName: name };
}

/** State and behaviour of one assembly run. */
export class Assembler implements FormContext {
  rvc = true;
  readonly optionStack: boolean[] = [];
  readonly files: SourceFile[] = [];
  readonly diags: Diagnostics;
  readonly sections: Section[] = [];
  readonly sectionStack: Section[] = [];
  previous: Section | undefined;
  cur!: Section;
  readonly symbols = new Map<string, Sym>();
  /** `.comm` symbols, allocated after all of .bss as GNU ld places COMMON. */
  readonly commons: { name: string; size: number; align: number; loc: Loc }[] = [];
  private readonly localDefs = new Map<number, number>();
  private readonly compressed = new Map<string, number>();
  private hidden = 0;
  loc: Loc = { file: 0, line: 0, col: 0, len: 0 };
  readonly pre: Preprocessor;
  readonly hooks: ExprHooks;

  constructor(readonly reader: SourceReader | undefined, readonly includeDirs: readonly string[]) {
    this.diags = new Diagnostics(this.files);
    this.hooks = { localRef: (n, fwd) => this.localRef(n, fwd), here: () => this.hereLabel() };
    this.pre = new Preprocessor(this);
    this.switchSection('.text');
  }

  /** Records an error. */
  error(loc: Loc, message: string): void {
    this.diags.error(this.pre.mapLoc(loc), message + this.pre.context());
  }

  /** Records a warning. */
  warn(loc: Loc, message: string): void {
    this.diags.warn(this.pre.mapLoc(loc), message + this.pre.context());
  }

  /** Makes `name` the current section, creating it with GNU's default flags. */
  switchSection(name: string, flags?: string, nobits?: boolean): void {
    let s = this.sections.find((x) => x.name === name);
    if (!s) {
      // GNU as records 2-byte alignment for .text when the ISA has C; other sections start at 1.
      const { out, outName } = outputKindOf(name);
      const f = flags ?? (out === 'text' ? 'ax' : out === 'rodata' ? 'a' : out === 'other' ? '' : 'aw');
      const code = f.includes('x');
      s = {
        name, out, outName, code, nobits: nobits ?? out === 'bss', write: f.includes('w'), alloc: f.includes('a') || out !== 'other',
        items: [], alignPow: name === '.text' ? 1 : 0, offsets: [], address: 0, mapping: [], mapState: 'none',
      };
      this.sections.push(s);
    }
    if (this.cur !== s) this.previous = this.cur;
    this.cur = s;
  }

  /** Value of an expression known now (numbers and constant `.equ` symbols), else undefined. */
  constant(e: Expr): bigint | undefined {
    try {
      return evaluate(e, (name) => this.symbols.get(name)?.value);
    } catch (err) {
      if (err instanceof EvalError) return undefined;
      throw err;
    }
  }

  /** Like `constant`, but reports why the value is not known. */
  requireConstant(e: Expr, loc: Loc, what: string): bigint | undefined {
    try {
      return evaluate(e, (name) => this.symbols.get(name)?.value);
    } catch (err) {
      if (!(err instanceof EvalError)) throw err;
      const at = { ...loc, col: err.col, len: Math.max(1, err.len) };
      if (err.symbol !== undefined) this.error(at, `${what} must be a constant known here; '${displayName(err.symbol)}' is ${this.symbols.get(err.symbol)?.kind === 'label' ? 'a label (an address fixed only after layout)' : 'not defined yet'}`);
      else this.error(at, err.message);
      return undefined;
    }
  }

  /** Symbol record for `name`, created as undefined on first use. */
  sym(name: string, use?: Loc): Sym {
    let s = this.symbols.get(name);
    if (!s) {
      s = { name, kind: 'undefined', global: false, useLoc: use };
      this.symbols.set(name, s);
    }
    return s;
  }

  private localRef(n: number, forward: boolean): string {
    const count = this.localDefs.get(n) ?? 0;
    return `${n}\u0002${forward ? count + 1 : count}`;
  }

  /** A hidden label at the current location (for `.` and %pcrel_lo pairing). */
  hereLabel(): string {
    const name = `.L\u0001${this.hidden++}`;
    this.symbols.set(name, { name, kind: 'label', section: this.cur, index: this.cur.items.length, global: false });
    return name;
  }

  /** Defines a label at the current location. */
  defineLabel(name: string, loc: Loc): void {
    const s = this.sym(name);
    if (s.kind !== 'undefined') {
      const where = s.defLoc ? ` (first defined at line ${s.defLoc.line})` : '';
      this.error(loc, `symbol '${displayName(name)}' is already defined${where}`);
      return;
    }
    s.kind = 'label';
    s.section = this.cur;
    s.index = this.cur.items.length;
    s.defLoc = loc;
  }

  /** Defines numeric local label `n` here. */
  defineLocal(n: number, loc: Loc): void {
    const k = (this.localDefs.get(n) ?? 0) + 1;
    this.localDefs.set(n, k);
    this.defineLabel(`${n}\u0002${k}`, loc);
  }

  private mark(code: boolean): void {
    const s = this.cur;
    const want = code ? 'x' : 'd';
    if (s.mapState === want || (!code && !s.code && s.mapState === 'none')) return;
    s.mapState = want;
    s.mapping.push({ index: s.items.length, code });
  }

  /** Appends an item, keeping mapping symbols in step. */
  push(item: Item, code: boolean): void {
    if (this.cur.nobits && (item.k !== 'space' || item.fill !== 0) && item.k !== 'align') {
      this.warn(item.loc, `section ${this.cur.name} holds no data: contents ignored`);
      return;
    }
    this.mark(code);
    this.cur.items.push(item);
  }

  /** Emits an instruction with known fields (compressed when C is on and `choices` allow). */
  emit(def: InsnDef, fields: Fields, loc: Loc, choices?: readonly CChoice[]): void {
    if (def.size === 2) return this.push({ k: 'word', size: 2, value: encode(def, fields) & 0xffff, loc }, true);
    const word = encode(def, fields);
    if (this.rvc && choices) {
      // Compression depends only on the word and the choices; programs repeat instructions a lot.
      const key = `${word}:${choices.map((c) => c.c).join(',')}`;
      let half = this.compressed.get(key);
      if (half === undefined) {
        half = compress(def.id, fields, choices) ?? -1;
        this.compressed.set(key, half);
      }
      if (half >= 0) return this.push({ k: 'word', size: 2, value: half, loc }, true);
    }
    this.push({ k: 'word', size: 4, value: word, loc }, true);
  }

  /** Emits an instruction completed after layout. */
  emitFix(def: InsnDef, fields: Fields, fix: Fixup, loc: Loc): void {
    this.noteUses(fix.expr, loc);
    this.push({ k: 'insn', size: def.size, def, fields, fix, loc }, true);
  }

  /** Emits a relaxable branch or jump. */
  emitBranch(op: Op, fields: Fields, target: Expr, rvc: boolean, loc: Loc): void {
    this.noteUses(target, loc);
    this.push({ k: 'branch', size: rvc ? 2 : 4, op, fields, target, rvc, uncond: op === Op.JAL, loc }, true);
  }

  /** Emits raw instruction bytes. */
  emitRaw(bytes: number[], loc: Loc): void {
    this.push({ k: 'bytes', size: bytes.length, bytes: Uint8Array.from(bytes), insn: true, loc }, true);
  }

  /** Appends data bytes. */
  emitData(bytes: Uint8Array, loc: Loc): void {
    if (bytes.length === 0) return;
    this.push({ k: 'bytes', size: bytes.length, bytes, insn: false, loc }, false);
  }

  /** Remembers where symbols are first used, for "undefined symbol" diagnostics. */
  noteUses(e: Expr, loc: Loc): void {
    if (e.t === 'sym') {
      const s = this.sym(e.name, { ...loc, col: e.col, len: e.len });
      if (!s.useLoc) s.useLoc = { ...loc, col: e.col, len: e.len };
    } else if (e.t === 'un' || e.t === 'reloc') this.noteUses(e.a, loc);
    else if (e.t === 'bin') {
      this.noteUses(e.a, loc);
      this.noteUses(e.b, loc);
    }
  }

  /** Assembles one statement (labels, then a directive, assignment, macro call or instruction). */
  statement(text: string, col: number, loc: Loc): void {
    const cur = new Cursor(text, col);
    for (;;) {
      cur.ws();
      const save = cur.p;
      const num = /^[0-9]+/.exec(text.slice(cur.p));
      const name = num ? num[0] : cur.ident();
      if (num) cur.p += num[0].length;
      if (name && text.charCodeAt(cur.p) === 0x3a /* : */) {
        const at = { ...loc, col: col + save, len: name.length };
        cur.p++;
        if (num) this.defineLocal(Number(name), at);
        else this.defineLabel(name, at);
        continue;
      }
      cur.p = save;
      break;
    }
    if (cur.eol()) return;
    const start = cur.p;
    const m = /^[A-Za-z_.$][\w.$]*/.exec(text.slice(cur.p));
    const at: Loc = { ...loc, col: col + start, len: m ? m[0].length : text.slice(start).trim().length };
    if (!m) return this.error(at, `expected a label, directive or instruction, found '${text.slice(cur.p).trim()}'`);
    const word = m[0];
    cur.p += word.length;
    const afterWord = cur.p;
    cur.ws();
    if (text[cur.p] === '=' && text[cur.p + 1] !== '=') {
      cur.p++;
      return runDirective(this, '.set', new Cursor(`${word}, ${text.slice(cur.p)}`, col + start - 0), at);
    }
    cur.p = afterWord;
    if (this.pre.isMacro(word)) return this.pre.callMacro(word, cur, at);
    if (word.startsWith('.')) return runDirective(this, word.toLowerCase(), cur, at);
    this.instruction(word, cur, at);
  }

  private instruction(word: string, cur: Cursor, at: Loc): void {
    const forms = instructionForms().get(word);
    if (!forms) return this.error(at, `unknown instruction '${word}'`);
    if (!this.rvc && word.startsWith('c.')) return this.error(at, `${word} needs the C extension, which .option norvc turned off (use .option rvc)`);
    const ops = splitOperands(cur.s.slice(cur.p), cur.col + cur.p);
    let best: { form: Form; index: number; message: string } | undefined;
    for (const form of forms) {
      if (form.kinds.length !== ops.length) continue;
      const parsed = this.parseOperands(form, ops, at);
      if ('values' in parsed) return form.emit(this, parsed.values, at, ops);
      if (!best || parsed.index > best.index) best = { form, ...parsed };
    }
    if (best) {
      const o = ops[best.index];
      return this.error({ ...at, col: o.col, len: Math.max(1, o.text.length) }, `${word}: ${best.message}`);
    }
    const counts = [...new Set(forms.map((f) => f.kinds.length))].sort();
    const shapes = forms.map((f) => f.kinds.map((k) => KIND_WORDS[k].replace(/^an? /, '')).join(', ') || 'no operands').join(' | ');
    this.error(at, `${word} takes ${counts.join(' or ')} operand${counts.length === 1 && counts[0] === 1 ? '' : 's'}, got ${ops.length}: expected ${shapes}`);
  }

  private parseOperands(form: Form, ops: RawOperand[], at: Loc): { values: Value[] } | { index: number; message: string } {
    const values: Value[] = [];
    for (let i = 0; i < ops.length; i++) {
      const o = ops[i];
      const kind = form.kinds[i];
      const reg = parseReg(o);
      try {
        switch (kind) {
          case 'R': {
            if (reg === undefined) return { index: i, message: `expected a register, got '${o.text}'` };
            const fixed = form.fixedRegs?.get(i);
            if (fixed !== undefined && reg !== fixed) return { index: i, message: `expected sp, got '${o.text}'` };
            values.push(reg);
            break;
          }
          case 'I':
          case 'T':
            if (reg !== undefined || o.text === '') return { index: i, message: `expected ${KIND_WORDS[kind]}, got '${o.text}'` };
            values.push(parseOperandExpr(o, this.hooks));
            break;
          case 'M':
          case 'A': {
            const mem = parseMem(o, this.hooks);
            if (!mem) return { index: i, message: `expected ${KIND_WORDS[kind]}, got '${o.text}'` };
            const fixed = form.fixedRegs?.get(i);
            if (fixed !== undefined && mem.reg !== fixed) return { index: i, message: `the base register must be sp` };
            if (kind === 'A') {
              if (mem.offset && this.constant(mem.offset) !== 0n) return { index: i, message: `expected (reg) or 0(reg), got '${o.text}'` };
              values.push(mem.reg);
            } else values.push(mem);
            break;
          }
          case 'C': {
            const byName = csrByName(o);
            if (byName !== undefined) {
              values.push(byName);
              break;
            }
            if (reg !== undefined) return { index: i, message: `expected a CSR name or number, got register '${o.text}'` };
            const e = parseOperandExpr(o, this.hooks);
            const v = this.constant(e);
            if (v === undefined) return { index: i, message: `unknown CSR '${o.text}'` };
            if (v < 0n || v > 4095n) return { index: i, message: `CSR number ${v} out of range: expected 0..4095` };
            values.push(Number(v));
            break;
          }
          case 'F': {
            const f = parseFenceSet(o);
            if (f === undefined) return { index: i, message: `expected a fence set made of i, o, r, w in that order, got '${o.text}'` };
            values.push(f);
            break;
          }
        }
      } catch (err) {
        if (err instanceof ExprError) return { index: i, message: err.message };
        throw err;
      }
    }
    void at;
    return { values };
  }

  /** Allocates `.comm` symbols in a last .bss input section (GNU ld's `*(COMMON)`). */
  allocateCommons(): void {
    if (!this.commons.length) return;
    const prev = this.cur;
    this.switchSection('COMMON', 'aw', true);
    this.cur.out = 'bss';
    this.cur.outName = '.bss';
    for (const c of this.commons) {
      const pow = Math.round(Math.log2(c.align));
      this.cur.alignPow = Math.max(this.cur.alignPow, pow);
      this.push({ k: 'align', size: 0, pow, fill: 0, fillSize: 1, max: 1 << 30, code: false, loc: c.loc }, false);
      if (this.sym(c.name).kind === 'undefined') this.defineLabel(c.name, c.loc);
      this.sym(c.name).global = true;
      if (c.size > 0) this.push({ k: 'space', size: c.size, fill: 0, loc: c.loc }, false);
    }
    this.cur = prev;
  }

  /** Opens an include file through the reader; reports when it cannot. */
  readFile(path: string, loc: Loc, binary: boolean): { text?: string; bytes?: Uint8Array; name: string } | undefined {
    if (!this.reader) {
      this.error(loc, `cannot read '${path}': no file reader was given to the assembler`);
      return undefined;
    }
    const from = this.files[this.pre.currentFile()]?.dir ?? '';
    const candidates = path.startsWith('/') ? [path] : [joinPath(from, path), ...this.includeDirs.map((d) => joinPath(d, path))];
    for (const p of candidates) {
      const got = this.reader.read(p);
      if (got === undefined) continue;
      if (binary) return { bytes: typeof got === 'string' ? utf8Encode(got) : got, name: p };
      return { text: typeof got === 'string' ? got : utf8Decode(got), name: p };
    }
    this.error(loc, `cannot find '${path}' (searched ${candidates.map((c) => `'${c}'`).join(', ')})`);
    return undefined;
  }
}

/** Joins a directory and a relative path with '/'. */
export function joinPath(dir: string, path: string): string {
  if (!dir) return path;
  return dir.endsWith('/') ? dir + path : `${dir}/${path}`;
}
