import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireTool } from './tools';

const cacheDir = join(tmpdir(), 'vmlab-test-gnu-as');

/**
 * Assembles `source` with GNU as (the oracle) and links it at `base`; returns the flat image bytes
 * from `base` on. Cached by content.
 */
export function gnuAssemble(source: string, base = 0x80000000, march = 'rv32imac_zicsr_zifencei'): Uint8Array {
  requireTool('riscv64-unknown-elf-as', 'binutils-riscv64-unknown-elf');
  mkdirSync(cacheDir, { recursive: true });
  const key = createHash('sha256').update(`${base}:${march}:${source}`).digest('hex').slice(0, 24);
  const bin = join(cacheDir, `${key}.bin`);
  if (!existsSync(bin)) {
    const src = join(cacheDir, `${key}.S`);
    const obj = join(cacheDir, `${key}.o`);
    const elf = join(cacheDir, `${key}.elf`);
    writeFileSync(src, source);
    execFileSync('riscv64-unknown-elf-as', [`-march=${march}`, '-mabi=ilp32', '-mno-relax', src, '-o', obj]);
    execFileSync('riscv64-unknown-elf-ld', ['-m', 'elf32lriscv', '--no-relax', `-Ttext=0x${base.toString(16)}`, obj, '-o', elf]);
    execFileSync('riscv64-unknown-elf-objcopy', ['-O', 'binary', elf, bin]);
    writeFileSync(join(cacheDir, `${key}.sym`), execFileSync('riscv64-unknown-elf-nm', [elf]));
  }
  return new Uint8Array(readFileSync(bin));
}

/** Symbol addresses of the program `gnuAssemble` last built from the same arguments. */
export function gnuSymbols(source: string, base = 0x80000000, march = 'rv32imac_zicsr_zifencei'): Map<string, number> {
  gnuAssemble(source, base, march);
  const key = createHash('sha256').update(`${base}:${march}:${source}`).digest('hex').slice(0, 24);
  const symbols = new Map<string, number>();
  for (const line of readFileSync(join(cacheDir, `${key}.sym`), 'utf8').split('\n')) {
    const [addr, , name] = line.trim().split(/\s+/);
    if (name) symbols.set(name, parseInt(addr, 16));
  }
  return symbols;
}
