// Source input: files, `.include`, macros (`.macro`/`.endm`, arguments with defaults, :req,
// :vararg, \@ and \()), repetition (`.rept`, `.irp`, `.irpc`) and conditional assembly
// (`.if*`/`.elseif`/`.else`/`.endif`), as in the GNU as manual, "Assembler Directives".

import { LineSplitter, type Cursor } from './lexer';
import { splitOperands } from './operands';
import type { Assembler } from './assembler';
import type { Loc } from './state';

interface Frame {
  readonly lines: readonly string[];
  /** 1-based line number of each line. */
  readonly lineNos: readonly number[] | undefined;
  readonly file: number;
  i: number;
  readonly splitter: LineSplitter;
  /** Macro expansions report at their call site. */
  readonly macro?: { readonly name: string; readonly at: Loc };
}

interface Macro {
  readonly name: string;
  readonly params: readonly { name: string; def?: string; req: boolean; vararg: boolean }[];
  readonly body: readonly string[];
  readonly defLine: number;
}

interface Cond {
  readonly parentActive: boolean;
  active: boolean;
  taken: boolean;
  sawElse: boolean;
}

/** A body being collected until its closing directive. */
interface Collect {
  readonly kind: 'macro' | 'rept';
  readonly lines: string[];
  readonly lineNos: number[];
  depth: number;
  readonly done: (lines: string[], lineNos: number[]) => void;
  readonly at: Loc;
}

const MAX_DEPTH = 100;
const MAX_LINES = 2_000_000;

/** Drives lines from files, macros and repetitions into the assembler's statement handler. */
export class Preprocessor {
  private readonly frames: Frame[] = [];
  private readonly macros = new Map<string, Macro>();
  private readonly conds: Cond[] = [];
  private collect: Collect | undefined;
  private counter = 0;
  private ended = false;
  private budget = MAX_LINES;

  constructor(private readonly asm: Assembler) {}

  /** Index of the file the current line comes from. */
  currentFile(): number {
    for (let i = this.frames.length - 1; i >= 0; i--) if (!this.frames[i].macro) return this.frames[i].file;
    return 0;
  }

  /** Call-site location inside a macro expansion, else `loc` itself. */
  mapLoc(loc: Loc): Loc {
    for (const f of this.frames) if (f.macro) return f.macro.at;
    return loc;
  }

  /** Message suffix naming the macro being expanded. */
  context(): string {
    const names = this.frames.filter((f) => f.macro).map((f) => f.macro!.name);
    return names.length ? ` (in expansion of macro '${names[names.length - 1]}')` : '';
  }

  /** Adds a file to the file list and queues its lines. */
  pushFile(name: string, text: string, at?: Loc): void {
    if (this.frames.length > MAX_DEPTH) return this.asm.error(at ?? this.asm.loc, `.include nested too deeply (more than ${MAX_DEPTH} levels)`);
    const slash = name.lastIndexOf('/');
    this.asm.files.push({ name, dir: slash >= 0 ? name.slice(0, slash) : '' });
    this.frames.push({ lines: text.split(/\r?\n/), lineNos: undefined, file: this.asm.files.length - 1, i: 0, splitter: new LineSplitter() });
  }

  /** Runs until every frame is consumed or `.end`. */
  run(): void {
    while (this.frames.length && !this.ended) {
      const f = this.frames[this.frames.length - 1];
      if (f.i >= f.lines.length) {
        this.frames.pop();
        continue;
      }
      if (--this.budget < 0) {
        this.asm.error(this.asm.loc, `more than ${MAX_LINES} lines after macro and .rept expansion: stopping`);
        return;
      }
      const idx = f.i++;
      const line = f.lines[idx];
      const lineNo = f.lineNos ? f.lineNos[idx] : idx + 1;
      this.line(f, line, lineNo);
    }
    if (this.collect) this.asm.error(this.collect.at, this.collect.kind === 'macro' ? '.macro without a matching .endm' : '.rept/.irp without a matching .endr');
    if (this.conds.length) {
      this.asm.error(this.asm.loc, '.if without a matching .endif');
      this.conds.length = 0;
    }
  }

  private line(f: Frame, line: string, lineNo: number): void {
    if (this.collect) return this.collectLine(line, lineNo);
    const stmts = f.splitter.split(line);
    for (const st of stmts) {
      const loc: Loc = { file: f.file, line: lineNo, col: st.col, len: st.text.length };
      this.asm.loc = loc;
      const dir = /^\s*(?:[\w.$]+:\s*)*(\.[A-Za-z]\w*)/.exec(st.text)?.[1]?.toLowerCase();
      if (!this.active()) {
        if (dir && (dir.startsWith('.if') || dir === '.else' || dir === '.elseif' || dir === '.endif')) this.asm.statement(st.text, st.col, loc);
        continue;
      }
      this.asm.statement(st.text, st.col, loc);
      if (this.collect || this.ended || this.frames[this.frames.length - 1] !== f) break;
    }
  }

  private collectLine(line: string, lineNo: number): void {
    const c = this.collect!;
    const dir = /^\s*(?:[\w.$]+:\s*)*(\.[A-Za-z]\w*)/.exec(line)?.[1]?.toLowerCase();
    const opens = c.kind === 'macro' ? dir === '.macro' : dir === '.rept' || dir === '.irp' || dir === '.irpc';
    const closes = c.kind === 'macro' ? dir === '.endm' : dir === '.endr';
    if (opens) c.depth++;
    if (closes && --c.depth === 0) {
      this.collect = undefined;
      c.done(c.lines, c.lineNos);
      return;
    }
    c.lines.push(line);
    c.lineNos.push(lineNo);
  }

  /** True when the current conditional branch is being assembled. */
  active(): boolean {
    return this.conds.length === 0 || this.conds[this.conds.length - 1].active;
  }

  /** `.if`-family opening with an evaluated condition. */
  pushIf(cond: boolean): void {
    const parentActive = this.active();
    this.conds.push({ parentActive, active: parentActive && cond, taken: cond, sawElse: false });
  }

  /** Opening of a conditional inside a skipped region (condition not evaluated). */
  pushSkipped(): void {
    this.conds.push({ parentActive: false, active: false, taken: true, sawElse: false });
  }

  /** `.elseif` / `.else`: `cond` is undefined for `.else`. */
  elseIf(cond: (() => boolean) | undefined, at: Loc, name: string): void {
    const c = this.conds[this.conds.length - 1];
    if (!c) return this.asm.error(at, `${name} without a matching .if`);
    if (c.sawElse) return this.asm.error(at, `${name} after .else`);
    if (cond === undefined) c.sawElse = true;
    const take = !c.taken && c.parentActive && (cond === undefined || cond());
    c.active = take;
    if (take) c.taken = true;
  }

  /** `.endif`. */
  endIf(at: Loc): void {
    if (!this.conds.pop()) this.asm.error(at, '.endif without a matching .if');
  }

  /** `.end`: stop reading input. */
  end(): void {
    this.ended = true;
  }

  /** True when `name` is a defined macro. */
  isMacro(name: string): boolean {
    return this.macros.has(name);
  }

  /** `.macro name params`: collects the body up to `.endm`. */
  defineMacro(cur: Cursor, at: Loc): void {
    const name = cur.ident() || /^\S+/.exec(cur.rest())?.[0] || '';
    if (!name) return this.asm.error(at, '.macro needs a name');
    const params: Macro['params'][number][] = [];
    for (const raw of cur.rest().split(/[,\s]+/).filter((x) => x)) {
      const m = /^([A-Za-z_.$][\w.$]*)(?::(req|vararg))?(?:=(.*))?$/.exec(raw);
      if (!m) return this.asm.error(at, `bad macro parameter '${raw}': expected name, name=default, name:req or name:vararg`);
      params.push({ name: m[1], def: m[3], req: m[2] === 'req', vararg: m[2] === 'vararg' });
    }
    this.collect = {
      kind: 'macro', lines: [], lineNos: [], depth: 1, at,
      done: (body) => {
        this.macros.set(name, { name, params, body, defLine: at.line });
      },
    };
  }

  /** `.purgem name`. */
  purge(name: string, at: Loc): void {
    if (!this.macros.delete(name)) this.asm.error(at, `.purgem: no macro named '${name}'`);
  }

  /** `.exitm`: leaves the innermost macro expansion. */
  exitMacro(at: Loc): void {
    for (let i = this.frames.length - 1; i >= 0; i--) {
      if (this.frames[i].macro) {
        this.frames.length = i;
        return;
      }
    }
    this.asm.error(at, '.exitm outside a macro');
  }

  /** Expands a macro call. */
  callMacro(name: string, cur: Cursor, at: Loc): void {
    const m = this.macros.get(name)!;
    if (this.frames.filter((f) => f.macro).length >= MAX_DEPTH) return this.asm.error(at, `macro '${name}' nested more than ${MAX_DEPTH} levels deep (recursive?)`);
    const text = cur.s.slice(cur.p);
    let args = splitOperands(text, 0).map((o) => o.text);
    if (args.length === 1 && m.params.length > 1 && /\s/.test(args[0])) args = args[0].match(/(?:"(?:[^"\\]|\\.)*"?|[^\s"])+/g) ?? [];
    const values = new Map<string, string>();
    let pos = 0;
    for (let i = 0; i < args.length; i++) {
      const kw = /^([A-Za-z_.$][\w.$]*)\s*=(.*)$/.exec(args[i]);
      if (kw && m.params.some((p) => p.name === kw[1])) {
        values.set(kw[1], macroArgument(kw[2].trim()));
        continue;
      }
      const p = m.params[pos];
      if (!p) return this.asm.error(at, `too many arguments for macro '${name}': it takes ${m.params.length}`);
      if (p.vararg) {
        values.set(p.name, args.slice(i).join(', '));
        break;
      }
      values.set(p.name, macroArgument(args[i]));
      pos++;
    }
    for (const p of m.params) {
      if (!values.has(p.name) || values.get(p.name) === '') {
        if (p.req) return this.asm.error(at, `missing value for required argument '${p.name}' of macro '${name}'`);
        values.set(p.name, p.def ?? '');
      }
    }
    const n = this.counter++;
    const names = [...values.keys()].sort((a, b) => b.length - a.length);
    const body = m.body.map((line) => substitute(line, names, values, n));
    this.frames.push({ lines: body, lineNos: m.body.map((_, i) => m.defLine + 1 + i), file: this.currentFile(), i: 0, splitter: new LineSplitter(), macro: { name, at } });
  }

  /** `.rept count` / `.irp sym, values` / `.irpc sym, chars`: collects the body up to `.endr`. */
  beginRepeat(at: Loc, expand: (body: string[]) => string[]): void {
    const file = this.currentFile();
    const macro = this.frames[this.frames.length - 1]?.macro;
    this.collect = {
      kind: 'rept', lines: [], lineNos: [], depth: 1, at,
      done: (body, lineNos) => {
        const lines = expand(body);
        const reps = body.length ? lines.length / body.length : 0;
        const nos: number[] = [];
        for (let r = 0; r < reps; r++) nos.push(...lineNos);
        this.frames.push({ lines, lineNos: nos, file, i: 0, splitter: new LineSplitter(), macro });
      },
    };
  }
}

/**
 * The value of one macro argument as GNU as takes it (macro.c get_any_string/getstring): a leading
 * quoted string loses its quotes, keeps backslash escapes as written and turns `""` into `"`.
 */
export function macroArgument(arg: string): string {
  if (!arg.startsWith('"')) return arg;
  let out = '';
  let escaped = false;
  for (let i = 1; i < arg.length; i++) {
    escaped = arg[i - 1] === '\\' ? !escaped : false;
    if (!escaped && arg[i] === '"') {
      if (arg[i + 1] !== '"') return out + arg.slice(i + 1);
      i++;
    }
    out += arg[i];
  }
  return out;
}

/** Replaces \name, \@ and \() in a macro body line. */
export function substitute(line: string, names: readonly string[], values: ReadonlyMap<string, string>, counter: number): string {
  if (!line.includes('\\')) return line;
  let out = '';
  for (let i = 0; i < line.length; i++) {
    if (line[i] !== '\\') {
      out += line[i];
      continue;
    }
    if (line[i + 1] === '@') {
      out += String(counter);
      i++;
      continue;
    }
    if (line[i + 1] === '(' && line[i + 2] === ')') {
      i += 2;
      continue;
    }
    const name = names.find((n) => line.startsWith(n, i + 1) && !/[\w.$]/.test(line[i + 1 + n.length] ?? ''));
    if (name !== undefined) {
      out += values.get(name);
      i += name.length;
      continue;
    }
    out += line[i];
  }
  return out;
}

/** Body lines of `.irp`: one copy per value with \sym replaced. */
export function irpLines(body: readonly string[], sym: string, values: readonly string[]): string[] {
  const out: string[] = [];
  for (const v of values) for (const l of body) out.push(substitute(l, [sym], new Map([[sym, v]]), 0));
  return out;
}

/** Helper for `.rept`: `count` copies of the body. */
export function reptLines(body: readonly string[], count: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < count; i++) out.push(...body);
  return out;
}

