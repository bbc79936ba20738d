// The RISC-V assembly language for Monaco, generated from the machine's instruction and CSR tables
// (isa.info): highlighting, hovers, go to label definition and the outline of labels.

import * as monaco from 'monaco-editor';
import EditorWorker from 'monaco-editor/editor/editor.worker?worker';
import type { IsaInfo } from '../../../shared/lab-api';
import { ABI_NAMES, csrDoc, DIRECTIVE_DOCS, INSN_DOCS, PSEUDO_DOCS } from './isa-docs';
import { findLabels } from './labels';

/** Monaco language id. */
export const LANGUAGE_ID = 'riscv';

/** Loads only Monaco's base editor worker (no language services are needed). */
export function setupMonacoWorkers(): void {
  (self as unknown as { MonacoEnvironment: monaco.Environment }).MonacoEnvironment = {
    getWorker: () => new EditorWorker(),
  };
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Registers the language once. */
export function registerRiscv(isa: IsaInfo): void {
  if (monaco.languages.getLanguages().some((l) => l.id === LANGUAGE_ID)) return;
  const insns = new Map<string, { syntax: string; ext: string }>();
  for (const i of isa.instructions) if (!insns.has(i.name)) insns.set(i.name, { syntax: i.syntax, ext: i.ext });
  const csrs = new Map(isa.csrs.map((c) => [c.name, c.num]));
  const mnemonics = [...insns.keys(), ...Object.keys(PSEUDO_DOCS)];
  // AMO mnemonics take .aq/.rl suffixes.
  const byLength = (a: string, b: string): number => b.length - a.length;
  const mnemonicRe = `(?:${mnemonics.sort(byLength).map(escape).join('|')})(?:\\.(?:aqrl|aq|rl))?`;
  const registers = [...ABI_NAMES, 'fp', ...Array.from({ length: 32 }, (_, i) => `x${i}`)];
  const registerRe = `(?:${registers.sort(byLength).join('|')})`;
  const csrRe = `(?:${[...csrs.keys()].sort(byLength).map(escape).join('|')})`;

  monaco.languages.register({ id: LANGUAGE_ID, extensions: ['.S', '.s', '.asm'], aliases: ['RISC-V assembly', 'riscv'] });
  monaco.languages.setLanguageConfiguration(LANGUAGE_ID, {
    comments: { lineComment: '#', blockComment: ['/*', '*/'] },
    brackets: [['(', ')']],
    autoClosingPairs: [{ open: '(', close: ')' }, { open: '"', close: '"' }, { open: "'", close: "'" }],
    wordPattern: /[A-Za-z_.$][\w.$]*/,
  });
  monaco.languages.setMonarchTokensProvider(LANGUAGE_ID, {
    tokenizer: {
      root: [
        [/#.*$/, 'comment'],
        [/\/\/.*$/, 'comment'],
        [/\/\*/, 'comment', '@comment'],
        [/^\s*[A-Za-z_.$][\w.$]*:/, 'type.identifier'],
        [/^\s*\d+:/, 'type.identifier'],
        [/\.[A-Za-z_][\w]*/, 'keyword.directive'],
        [/%(?:hi|lo|pcrel_hi|pcrel_lo)\b/, 'keyword.operator'],
        [new RegExp(`\\b${mnemonicRe}\\b`), 'keyword'],
        [new RegExp(`\\b${registerRe}\\b`), 'variable.predefined'],
        [new RegExp(`\\b${csrRe}\\b`), 'constant'],
        [/\b\d+[fb]\b/, 'type.identifier'],
        [/-?0[xX][0-9a-fA-F_]+\b/, 'number.hex'],
        [/-?0[bB][01_]+\b/, 'number'],
        [/-?\d+\b/, 'number'],
        [/"([^"\\]|\\.)*"/, 'string'],
        [/'([^'\\]|\\.)'/, 'string'],
        [/[A-Za-z_.$][\w.$]*/, 'identifier'],
      ],
      comment: [
        [/\*\//, 'comment', '@pop'],
        [/./, 'comment'],
      ],
    },
  });

  monaco.languages.registerHoverProvider(LANGUAGE_ID, {
    provideHover(model, position) {
      const word = model.getWordAtPosition(position);
      if (!word) return null;
      const w = word.word.replace(/\.(aqrl|aq|rl)$/, '');
      const range = new monaco.Range(position.lineNumber, word.startColumn, position.lineNumber, word.endColumn);
      const lines: string[] = [];
      const insn = insns.get(w);
      if (insn) {
        lines.push(`**${w}** ${insn.syntax.replace(/_[a-z]+/g, '')}`.trim(), `${INSN_DOCS[w] ?? (w.startsWith('c.') ? `Compressed (16-bit) form of ${w.slice(2)}.` : '')}`, `*Extension ${insn.ext}*`);
      } else if (PSEUDO_DOCS[w]) {
        lines.push(`**${w}** (pseudo-instruction)`, PSEUDO_DOCS[w]);
      } else if (csrs.has(w)) {
        lines.push(`**${w}** — CSR 0x${csrs.get(w)!.toString(16).padStart(3, '0')}`, csrDoc(w));
      } else if (DIRECTIVE_DOCS[w]) {
        lines.push(`**${w}**`, DIRECTIVE_DOCS[w]);
      } else {
        const abi = ABI_NAMES.indexOf(w);
        const x = /^x(\d+)$/.exec(w);
        if (abi >= 0) lines.push(`**${w}** = x${abi}`);
        else if (x && Number(x[1]) < 32) lines.push(`**${w}** = ${ABI_NAMES[Number(x[1])]}`);
        else {
          const def = findLabels(model.getValue()).find((l) => l.name === w);
          if (def) lines.push(`**${w}**: label, line ${def.line}`);
        }
      }
      return lines.length ? { range, contents: lines.filter(Boolean).map((value) => ({ value })) } : null;
    },
  });

  monaco.languages.registerDefinitionProvider(LANGUAGE_ID, {
    provideDefinition(model, position) {
      const word = model.getWordAtPosition(position);
      if (!word) return null;
      const def = findLabels(model.getValue()).find((l) => l.name === word.word);
      if (!def) return null;
      return { uri: model.uri, range: new monaco.Range(def.line, def.column, def.line, def.column + def.name.length) };
    },
  });

  monaco.languages.registerDocumentSymbolProvider(LANGUAGE_ID, {
    provideDocumentSymbols(model) {
      return findLabels(model.getValue()).map((l) => {
        const range = new monaco.Range(l.line, l.column, l.line, l.column + l.name.length);
        return { name: l.name, detail: '', kind: monaco.languages.SymbolKind.Function, tags: [], range, selectionRange: range };
      });
    },
  });
}
