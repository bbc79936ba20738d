// Line-level lexing for GNU as syntax: statements separated by `;`, comments from `#` to the end of
// the line and `/* ... */` (which may span lines), strings with C escapes. Columns are 0-based here.

/** One statement of a line: its text and the column where it starts. */
export interface Statement {
  readonly text: string;
  readonly col: number;
}

/** Splits lines into statements; carries the open `/*` comment state from line to line. */
export class LineSplitter {
  /** True while inside a block comment that started on an earlier line. */
  inComment = false;

  /** Splits one physical line. */
  split(line: string): Statement[] {
    const out: Statement[] = [];
    let buf = '';
    let bufCol = -1;
    let i = 0;
    const n = line.length;
    const push = (): void => {
      if (buf.trim() !== '') out.push({ text: buf, col: bufCol });
      buf = '';
      bufCol = -1;
    };
    while (i < n) {
      if (this.inComment) {
        const end = line.indexOf('*/', i);
        if (end < 0) return finish();
        buf += ' '.repeat(end + 2 - i);
        i = end + 2;
        this.inComment = false;
        continue;
      }
      const c = line.charCodeAt(i);
      if (bufCol < 0) bufCol = i;
      if (c === 0x22 /* " */ || c === 0x27 /* ' */) {
        // A string, or a character constant 'c (GNU allows an unclosed one); copy through the close.
        let j = i + 1;
        while (j < n) {
          const d = line.charCodeAt(j);
          if (d === 0x5c) j += 2;
          else if (d === c) break;
          else j++;
        }
        if (c === 0x27 && (j >= n || j > i + 3)) j = Math.min(n - 1, line.charCodeAt(i + 1) === 0x5c ? i + 2 : i + 1);
        buf += line.slice(i, j + 1);
        i = j + 1;
        continue;
      }
      if (c === 0x23 /* # */) break;
      if (c === 0x2f && line.charCodeAt(i + 1) === 0x2a) {
        this.inComment = true;
        buf += '  ';
        i += 2;
        continue;
      }
      if (c === 0x3b /* ; */) {
        push();
        i++;
        continue;
      }
      buf += line[i];
      i++;
    }
    return finish();
    function finish(): Statement[] {
      push();
      return out;
    }
  }
}

/** True for characters that may start a symbol name. */
export function isIdentStart(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f || c === 0x2e || c === 0x24;
}

/** True for characters that may continue a symbol name. */
export function isIdentPart(c: number): boolean {
  return isIdentStart(c) || (c >= 0x30 && c <= 0x39);
}

/** A read position in one statement's text. */
export class Cursor {
  p = 0;
  constructor(readonly s: string, readonly col: number) {}

  /** Skips blanks. */
  ws(): void {
    const s = this.s;
    while (this.p < s.length) {
      const c = s.charCodeAt(this.p);
      if (c !== 0x20 && c !== 0x09 && c !== 0x0d && c !== 0x0c && c !== 0x0b) break;
      this.p++;
    }
  }

  /** True at the end of the text (after blanks). */
  eol(): boolean {
    this.ws();
    return this.p >= this.s.length;
  }

  /** Consumes `ch` (after blanks) when it is next. */
  eat(ch: string): boolean {
    this.ws();
    if (this.s.startsWith(ch, this.p)) {
      this.p += ch.length;
      return true;
    }
    return false;
  }

  /** Next character code after blanks, or -1. */
  peek(): number {
    this.ws();
    return this.p < this.s.length ? this.s.charCodeAt(this.p) : -1;
  }

  /** Reads a symbol-like name, or returns ''. */
  ident(): string {
    this.ws();
    const s = this.s;
    const start = this.p;
    if (start < s.length && isIdentStart(s.charCodeAt(start))) {
      let j = start + 1;
      while (j < s.length && isIdentPart(s.charCodeAt(j))) j++;
      this.p = j;
      return s.slice(start, j);
    }
    return '';
  }

  /** Absolute 0-based column of the current position. */
  column(): number {
    return this.col + this.p;
  }

  /** The rest of the text, trimmed. */
  rest(): string {
    return this.s.slice(this.p).trim();
  }
}

/** Decodes a string literal starting at the cursor (GNU escapes); undefined when malformed. */
export function readString(cur: Cursor): number[] | undefined {
  cur.ws();
  const s = cur.s;
  if (s.charCodeAt(cur.p) !== 0x22) return undefined;
  const bytes: number[] = [];
  let i = cur.p + 1;
  for (;;) {
    if (i >= s.length) return undefined;
    const c = s.charCodeAt(i);
    if (c === 0x22) break;
    if (c !== 0x5c) {
      pushUtf8(bytes, s.codePointAt(i)!);
      i += s.codePointAt(i)! > 0xffff ? 2 : 1;
      continue;
    }
    i++;
    const e = s[i];
    const simple: Record<string, number> = { n: 10, t: 9, r: 13, b: 8, f: 12, v: 11, a: 7, e: 27, '\\': 92, '"': 34, "'": 39 };
    if (e === undefined) return undefined;
    if (e in simple) {
      bytes.push(simple[e]);
      i++;
    } else if (e === 'x' || e === 'X') {
      let j = i + 1;
      let v = 0;
      while (j < s.length && /[0-9a-fA-F]/.test(s[j])) v = (v * 16 + parseInt(s[j++], 16)) & 0xff;
      bytes.push(v);
      i = j;
    } else if (/[0-7]/.test(e)) {
      let j = i;
      let v = 0;
      while (j < s.length && j < i + 3 && /[0-7]/.test(s[j])) v = v * 8 + parseInt(s[j++], 8);
      bytes.push(v & 0xff);
      i = j;
    } else {
      bytes.push(e.charCodeAt(0) & 0xff);
      i++;
    }
  }
  cur.p = i + 1;
  return bytes;
}

function pushUtf8(out: number[], cp: number): void {
  if (cp < 0x80) out.push(cp);
  else if (cp < 0x800) out.push(0xc0 | (cp >> 6), 0x80 | (cp & 63));
  else if (cp < 0x10000) out.push(0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63));
  else out.push(0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 63), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63));
}
