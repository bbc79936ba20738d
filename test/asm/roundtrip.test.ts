// Round trip for every instruction-table entry: encode → decode → print → assemble gives the same
// word, both for the canonical spelling and for the objdump-style alias spelling.

import { describe, expect, it } from 'vitest';
import { assemble } from '../../src/engine/asm/index';
import { canonicalText, DisasmState, printInsn } from '../../src/engine/asm/disasm';
import { readElf } from '../../src/engine/asm/elf-reader';
import { decodeAny } from '../../src/engine/isa/decode';
import { encode, isRvcHint } from '../../src/engine/isa/encode';
import { FIELDS, fieldFits, getField, type FieldName } from '../../src/engine/isa/fields';
import { INSTRUCTIONS, syntaxFields, type InsnDef } from '../../src/engine/isa/table';
import { rng } from './corpus';

const BASE = 0x80000000;

function textBytes(src: string): Uint8Array {
  const r = assemble(`.text\n${src}\n`, { file: 'rt.S' });
  const errs = r.diagnostics.filter((d) => d.severity === 'error');
  if (!r.elf) throw new Error(`'${src}': ${errs.map((e) => e.message).join('; ')}`);
  const elf = readElf(r.elf)!;
  const t = elf.sections.find((s) => s.name === '.text')!;
  return elf.bytes.slice(t.offset, t.offset + t.size);
}

function word(b: Uint8Array, size: number): number {
  return size === 2 ? b[0] | (b[1] << 8) : (b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24)) >>> 0;
}

/** Random valid encodings of an entry (no reserved or HINT forms). */
function samples(def: InsnDef, n: number, next: (k: number) => number): number[] {
  const out: number[] = [];
  for (let tries = 0; out.length < n && tries < n * 50; tries++) {
    const fields: Partial<Record<FieldName, number>> = {};
    for (const f of syntaxFields(def)) {
      const spec = FIELDS[f];
      if (spec.kind === 'reg') fields[f] = next(32);
      else if (spec.kind === 'creg') fields[f] = 8 + next(8);
      else {
        const scale = 2 ** Math.min(...spec.runs.map((r) => r[1]));
        const span = 2 ** spec.width / scale;
        const v = (next(span) - (spec.signed ? span / 2 : 0)) * scale;
        fields[f] = v;
      }
      if (!fieldFits(f, fields[f]!)) fields[f] = 0;
      // GNU as has no spelling for an empty fence set.
      if (spec.kind === 'fence' && fields[f] === 0) fields[f] = 15;
    }
    if (def.aqrl) fields.aqrl = next(4);
    const w = encode(def, fields) & (def.size === 2 ? 0xffff : 0xffffffff);
    const d = decodeAny(def.size === 2 ? w : w >>> 0);
    if (d.def !== def) continue;
    if (def.size === 2 && isRvcHint(def, (f) => getField(w, f))) continue;
    out.push(def.size === 2 ? w : w >>> 0);
  }
  return out;
}

describe('encode → decode → print → assemble', () => {
  const next = rng(99);
  for (const def of INSTRUCTIONS) {
    it(def.name, () => {
      for (const w of samples(def, 12, next)) {
        const canon = canonicalText(w)!;
        const opt = def.size === 2 ? '.option rvc' : '.option norvc';
        expect(word(textBytes(`${opt}\n${canon}`), def.size), canon).toBe(w);
        if (def.size === 4) {
          const p = printInsn(w, BASE, new DisasmState());
          const target = p.target === undefined ? '' : `.${p.target - BASE >= 0 ? '+' : '-'}${Math.abs(p.target - BASE)}`;
          const text = `${p.mnemonic} ${p.operands}${target}`;
          expect(word(textBytes(`${opt}\n${text}`), 4), text).toBe(w);
        }
      }
    });
  }
});
