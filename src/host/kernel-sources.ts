// What the kernel lists and the kernel notes (kernel-info.ts) learn of a workspace's assembly
// sources by assembling them: whether a source defines `_start` (one that does not is a file that
// kernels `.include`, such as the structure lab's lib.S, fs.S and user.S, which the New VM form
// sets apart from the kernels) and the code it assembles to (read for the pv hypercall, see
// pvKernel). A source's facts are kept under its text, so listing again after an edit elsewhere
// assembles nothing; a `_start` that only an included file defines is seen as it was when the
// including source was last assembled with that text.

import type { AssemblerBackend } from './assembler';
import { ElfError } from '../engine/machine/elf';
import { elfCode } from './kernel-info';

/** A source of this many characters or more is not assembled for the lists (it is listed as a kernel). */
const MAX_LISTED_SOURCE = 1 << 20;

/** What assembling a source says of it as a kernel. */
export interface SourceFacts {
  /** Whether its symbols (those of a source with errors too) include `_start`. */
  readonly start: boolean;
  /** The bytes of its executable segments, when it assembles. */
  readonly code?: readonly Uint8Array[];
}

/** Facts of workspace sources, each assembled once per text. */
export class KernelSources {
  private readonly known = new Map<string, { text: string; facts: SourceFacts }>();

  constructor(private readonly assembler: AssemblerBackend, private readonly readText: (path: string) => Promise<string>) {}

  /** The facts of source `path` as it is saved now. */
  async facts(path: string): Promise<SourceFacts> {
    return this.factsOf(path, await this.readText(path));
  }

  /**
   * Which of the sources `paths` define no `_start`, in their order; sources gone from `paths` are
   * forgotten. One that cannot be read, or is too large to assemble for a list, counts as a kernel.
   */
  async withoutStart(paths: readonly string[]): Promise<string[]> {
    const listed = new Set(paths);
    for (const path of this.known.keys()) if (!listed.has(path)) this.known.delete(path);
    const out: string[] = [];
    for (const path of paths) {
      const text = await this.readText(path).catch(() => undefined);
      if (text === undefined || text.length >= MAX_LISTED_SOURCE) continue;
      const facts = await this.factsOf(path, text).catch(() => undefined);
      if (facts !== undefined && !facts.start) out.push(path);
    }
    return out;
  }

  private async factsOf(path: string, text: string): Promise<SourceFacts> {
    const known = this.known.get(path);
    if (known?.text === text) return known.facts;
    const out = await this.assembler.assemble(text, { file: path });
    const code = out.elf === undefined ? undefined : codeOf(out.elf);
    const facts: SourceFacts = { start: out.symbols.some((s) => s.name === '_start'), ...(code !== undefined ? { code } : {}) };
    this.known.set(path, { text, facts });
    return facts;
  }
}

/** The code of an assembled ELF; undefined for one with nothing to load (a file of macros only). */
function codeOf(elf: Uint8Array): Uint8Array[] | undefined {
  try {
    return elfCode(elf);
  } catch (err) {
    if (err instanceof ElfError) return undefined;
    throw err;
  }
}
