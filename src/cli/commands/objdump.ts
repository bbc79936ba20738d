// `vmlab objdump`: an objdump -d style listing of an ELF executable's code sections.

import type { Command } from 'commander';
import { disassembleElf, readElf } from '../../engine/asm/index';
import { readInputFile } from '../kernel-input';

const EM_RISCV = 243;

/** Registers `vmlab objdump`. */
export function registerObjdump(program: Command): void {
  program
    .command('objdump')
    .description('disassemble the code sections of an ELF32 RISC-V file (as objdump -d)')
    .argument('<elf>', 'ELF32 RISC-V executable or object')
    .action((path: string) => {
      const bytes = readInputFile(path, 'an ELF file');
      if (!readElf(bytes)) throw new Error(`'${path}' is not an ELF32 little-endian file`);
      const machine = bytes[18] | (bytes[19] << 8);
      if (machine !== EM_RISCV) throw new Error(`'${path}' is an ELF file for machine ${machine}, not RISC-V (${EM_RISCV})`);
      const text = disassembleElf(bytes).replace(/^\nfile format/, `\n${path}:     file format`);
      process.stdout.write(text);
    });
}
