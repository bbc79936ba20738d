// Public API of the assembler and disassembler (README.md, Assemble and disassemble).

export { assemble, ARCH_ATTRIBUTE } from './assemble';
export { DEFAULT_BASE } from './types';
export type { AssembleOptions, AssembleResult, Diagnostic, LineMapEntry, SectionInfo, SourceReader, SymbolEntry } from './types';
export { disassembleElf } from './objdump';
export { printInsn, DisasmState, type Printed } from './disasm';
export { readElf, type ElfFile, type ElfSection, type ElfSymbol } from './elf-reader';
export { benchmarkAssembler, benchmarkSource, type AsmBenchResult } from './bench';
export { canonicalText } from './disasm';
