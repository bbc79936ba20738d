// `vmlab asm`: assemble a GNU-as-syntax source into an RV32 ELF executable with the engine's assembler.

import { writeFileSync } from 'node:fs';
import { InvalidArgumentError, type Command } from 'commander';
import { assembleFile, reportDiagnostics } from '../kernel-input';

/** Exit code when the source has errors (as for any bad input). */
export const EXIT_ASM_ERRORS = 2;

interface AsmOptions {
  output: string;
  base?: number;
  include: string[];
}

/** Parses a link address: 0x hex or decimal, 4-byte aligned, below 4 GiB. */
export function parseAddress(text: string): number {
  const v = Number(text.replace(/_/g, ''));
  if (text.trim() === '' || !Number.isSafeInteger(v) || v < 0 || v > 0xffffffff) throw new InvalidArgumentError(`expected an address like 0x80000000, got '${text}'`);
  if (v % 4 !== 0) throw new InvalidArgumentError(`the base address must be a multiple of 4, got '${text}'`);
  return v;
}

/** Registers `vmlab asm`. */
export function registerAsm(program: Command): void {
  program
    .command('asm')
    .description('assemble a RISC-V source (GNU as syntax, RV32IMAC) into an ELF32 executable')
    .argument('<source>', 'assembly source (.S or .s)')
    .requiredOption('-o, --output <file>', 'where to write the ELF executable')
    .option('--base <addr>', 'link address of the first section (default 0x80000000)', parseAddress)
    .option('-I, --include <dir>', 'search DIR for .include and .incbin (repeatable)', (dir: string, dirs: string[]) => [...dirs, dir], [] as string[])
    .action((source: string, opts: AsmOptions) => {
      const r = assembleFile(source, { base: opts.base, includeDirs: opts.include });
      const errors = reportDiagnostics(r.diagnostics);
      if (errors > 0 || !r.elf) {
        process.exitCode = EXIT_ASM_ERRORS;
        return;
      }
      try {
        writeFileSync(opts.output, r.elf);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        const why = code === 'ENOENT' ? 'its folder does not exist' : code === 'EISDIR' ? 'it is a folder' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : (err as Error).message;
        throw new Error(`cannot write '${opts.output}': ${why}`);
      }
    });
}
