// Builds guest programs into a content-addressed cache under the system temp directory, so repeated
// test runs and parallel workers reuse the same ELF files. Assembly guests go through vmlab's own
// assembler (GNU as + ld build a twin only for comparisons against GNU); C guests need gcc.
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { assembleFile, formatDiagnostic } from '../../src/cli/kernel-input';
import { DEFAULT_BASE } from '../../src/engine/asm/index';
import { linkerScript } from '../asm/oracle';
import { requirePicolibc, tool } from './tools';

const execFileAsync = promisify(execFile);

/** Repository root. */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Root of the guest programs (asm/, c/, lib/). */
export const GUEST_DIR = join(REPO_ROOT, 'test', 'guests');
/** Assembly guest programs. */
export const ASM_DIR = join(REPO_ROOT, 'test', 'guests', 'asm');
/** C guest programs. */
export const C_DIR = join(REPO_ROOT, 'test', 'guests', 'c');
/** Shared guest runtime: linker script, runtime.inc, crt0 and the UART stdio hook. */
export const LIB_DIR = join(REPO_ROOT, 'test', 'guests', 'lib');
/** Linker script placing every C guest at 0x80000000. */
export const LINK_SCRIPT = join(LIB_DIR, 'link.ld');
/** crt0 for C guests running in M-mode without paging. */
export const C_CRT0 = join(LIB_DIR, 'crt0.S');
/** picolibc stdio bound to the ns16550a UART, plus _exit through the test finisher. */
export const C_STDIO = join(LIB_DIR, 'stdio-uart.c');
/** Where built ELF files are cached. */
export const CACHE_DIR = join(tmpdir(), 'vmlab-guest-cache');

/** Bumped whenever the build recipe changes, so stale cache entries are not reused. */
const RECIPE = 'vmlab-guest-build-5';
const AS_FLAGS = ['-march=rv32imac_zicsr_zifencei', '-mabi=ilp32'];
/** Compile with the CSR extensions; link with a plain -march so gcc picks its rv32imac/ilp32 multilib (TOOLCHAIN.md). */
const CC_FLAGS = ['-march=rv32imac_zicsr_zifencei', '-mabi=ilp32', '-mcmodel=medany', '-O2', '-g', '-Wall', '-Werror'];
const LINK_FLAGS = ['-march=rv32imac', '-mabi=ilp32', '-nostartfiles', '-static'];

/** Options for a C build. */
export interface CBuildOptions {
  /** Start-up file (assembly) linked first; default C_CRT0. */
  crt0?: string;
  /** Extra C sources linked in; default [C_STDIO]. */
  extra?: string[];
  /** Extra compiler flags (for example -O3). */
  cflags?: string[];
}

/** Sorted absolute paths of files in `dir` ending in `ext`. */
export function listGuests(dir: string, ext: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(ext))
    .sort()
    .map((f) => join(dir, f));
}

function hashOf(parts: (string | Buffer)[]): string {
  const h = createHash('sha256');
  for (const p of parts) {
    h.update(String(p.length));
    h.update(p);
  }
  return h.digest('hex').slice(0, 24);
}

async function run(cmd: string, args: string[], cwd?: string): Promise<void> {
  try {
    await execFileAsync(cmd, args, { cwd, maxBuffer: 16 << 20 });
  } catch (e) {
    const err = e as { stderr?: string; stdout?: string; message: string };
    throw new Error(`${basename(cmd)} ${args.join(' ')} failed:\n${err.stderr || err.stdout || err.message}`);
  }
}

function cached(key: string, name: string): { path: string; hit: boolean } {
  mkdirSync(CACHE_DIR, { recursive: true });
  const path = join(CACHE_DIR, `${basename(name).replace(/\.[^.]+$/, '')}-${key}.elf`);
  return { path, hit: existsSync(path) };
}

function scratchDir(key: string): string {
  const dir = join(CACHE_DIR, `work-${key}-${process.pid}-${Math.random().toString(36).slice(2)}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/**
 * Assembles one .S guest with vmlab's assembler at 0x80000000 (it may `.include "runtime.inc"`);
 * returns the path of the ELF, named by its content. Throws with the diagnostics on errors.
 */
export async function buildAsm(src: string): Promise<string> {
  const r = assembleFile(src, { base: DEFAULT_BASE, includeDirs: [LIB_DIR] });
  const errors = r.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0 || !r.elf) throw new Error(`vmlab asm ${src} failed:\n${errors.map(formatDiagnostic).join('\n')}`);
  const out = cached(hashOf([Buffer.from(r.elf)]), src);
  if (out.hit) return out.path;
  const tmp = `${out.path}.${process.pid}-${Math.random().toString(36).slice(2)}`;
  writeFileSync(tmp, r.elf);
  renameSync(tmp, out.path);
  return out.path;
}

/**
 * The GNU twin of buildAsm, for tests that compare against GNU: riscv64-unknown-elf-as and -ld with
 * a linker script that places sections as vmlab does (test/asm/oracle.ts); returns the cached ELF path.
 */
export async function buildAsmGnu(src: string): Promise<string> {
  const as = tool('riscv64-unknown-elf-as');
  const ld = tool('riscv64-unknown-elf-ld');
  const script = linkerScript(DEFAULT_BASE);
  const key = hashOf([RECIPE, ...AS_FLAGS, script, readFileSync(src), readFileSync(join(LIB_DIR, 'runtime.inc'))]);
  const out = cached(key, `${basename(src).replace(/\.[^.]+$/, '')}-gnu.S`);
  if (out.hit) return out.path;
  const work = scratchDir(key);
  const obj = join(work, 'prog.o');
  await run(as, [...AS_FLAGS, '-mno-relax', '-I', LIB_DIR, '-I', dirname(src), '-o', obj, src]);
  writeFileSync(join(work, 'link.ld'), script);
  const elf = join(work, 'prog.elf');
  await run(ld, ['-m', 'elf32lriscv', '-T', join(work, 'link.ld'), '-e', '_start', '--no-relax', '-o', elf, obj]);
  renameSync(elf, out.path);
  rmSync(work, { recursive: true, force: true });
  return out.path;
}

/** Compiles and links a C guest with picolibc and the given crt0; returns the cached ELF path. */
export async function buildC(src: string, options: CBuildOptions = {}): Promise<string> {
  const gcc = tool('riscv64-unknown-elf-gcc');
  const specs = requirePicolibc();
  const crt0 = options.crt0 ?? C_CRT0;
  const extra = options.extra ?? [C_STDIO];
  const cflags = [...CC_FLAGS, ...(options.cflags ?? [])];
  const sources = [crt0, src, ...extra];
  const key = hashOf([RECIPE, ...cflags, ...LINK_FLAGS, ...sources.map((p) => readFileSync(p)), readFileSync(LINK_SCRIPT)]);
  const out = cached(key, src);
  if (out.hit) return out.path;
  const work = scratchDir(key);
  const objects: string[] = [];
  for (const [i, s] of sources.entries()) {
    const obj = join(work, `${i}-${basename(s)}.o`);
    const lang = s.endsWith('.S') ? AS_FLAGS.concat(['-x', 'assembler-with-cpp']) : cflags;
    await run(gcc, [`--specs=${specs}`, ...lang, '-I', LIB_DIR, '-c', '-o', obj, s]);
    objects.push(obj);
  }
  const elf = join(work, 'prog.elf');
  await run(gcc, [`--specs=${specs}`, ...LINK_FLAGS, '-T', LINK_SCRIPT, '-o', elf, ...objects, '-Wl,--gc-sections']);
  renameSync(elf, out.path);
  rmSync(work, { recursive: true, force: true });
  return out.path;
}

/** Builds a .S or .c guest by its extension (C guests get the default crt0 and UART stdio). */
export function buildGuest(src: string): Promise<string> {
  return src.endsWith('.c') ? buildC(src) : buildAsm(src);
}

/** Runs `jobs` with at most `limit` running at once; results keep the input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, job: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await job(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** Address → "insn operands" from objdump -d, for divergence reports. */
export async function disassembly(elf: string): Promise<Map<number, string>> {
  const objdump = tool('riscv64-unknown-elf-objdump');
  const cacheFile = `${elf}.dis`;
  let text: string;
  if (existsSync(cacheFile)) {
    text = readFileSync(cacheFile, 'utf8');
  } else {
    const { stdout } = await execFileAsync(objdump, ['-d', '-M', 'no-aliases,numeric', elf], { maxBuffer: 64 << 20 });
    text = stdout;
    writeFileSync(cacheFile, text);
  }
  const map = new Map<number, string>();
  for (const line of text.split('\n')) {
    const m = /^\s*([0-9a-f]+):\s+([0-9a-f]+)\s+(.*)$/.exec(line);
    if (m) map.set(parseInt(m[1], 16), `${m[2]}  ${m[3].replace(/\s+/g, ' ').trim()}`);
  }
  return map;
}
