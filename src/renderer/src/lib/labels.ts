// Label definitions in assembly source, for go-to-definition, hovers and the outline.

/** One `label:` definition found in a source text. */
export interface LabelDef {
  readonly name: string;
  readonly line: number;
  readonly column: number;
}

/** Finds label definitions (`name:` at the start of a statement), skipping numeric local labels. */
export function findLabels(text: string): LabelDef[] {
  const out: LabelDef[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const code = lines[i].replace(/#.*/, '');
    const m = /^(\s*)([A-Za-z_.$][\w.$]*):/.exec(code);
    if (m) out.push({ name: m[2], line: i + 1, column: m[1].length + 1 });
  }
  return out;
}
