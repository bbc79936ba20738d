// Bad and odd inputs to the CLI get one line naming the input and what is wrong, never an internal
// message: memory sizes past what the machine can address, files that cannot be written, malformed
// *.vm.json fields, assembler errors, a text file given as the kernel. And the fix that goes with
// the memory sizes: guest RAM committed as the guest touches it.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/build';

const VMLAB = join(REPO_ROOT, 'bin', 'vmlab.mjs');
const LABS = join(REPO_ROOT, 'labs');
const dir = mkdtempSync(join(tmpdir(), 'vmlab-cli-inputs-'));
const TRAPS = join(LABS, 'traps', 'traps.S');
writeFileSync(join(dir, 'ok.vm.json'), JSON.stringify({ name: 'ok', kernel: TRAPS, mode: 'trap' }));

function vmlab(args: string[], input = ''): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [VMLAB, ...args], { cwd: dir, input, encoding: 'latin1', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Internal texts that must never reach a user. */
const INTERNAL = /Array buffer|Invalid array|typed array|Invalid input|ENOENT|EISDIR|RangeError|at .*\.(m?js|ts):\d+/;

function expectOneLine(r: { code: number | null; stderr: string }, message: RegExp): void {
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(message);
  expect(r.stderr).not.toMatch(INTERNAL);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
}

describe('--mem', () => {
  it.each([
    [['--mem', '4G'], /^vmlab: --mem 4G is too large: RAM starts at 0x80000000 and physical addresses have 32 bits.*the most is 2G$/m],
    [['--mem', '5G'], /^vmlab: --mem 5G is too large/],
    [['--mem', '100G'], /^vmlab: --mem 100G is too large/],
    [['--mem', '2049M'], /^vmlab: --mem 2049M is too large/],
    [['--mem', '2G', '--mode', 'trap'], /^vmlab: --mem 2G is too large for a VM: .*the VMM keeps 64M of it for its tables; the most is 1984M$/m],
    [['--mem', '1000'], /^vmlab: --mem 1000: RAM must be a whole number of 4 KiB pages$/m],
    [['--mem', '0'], /^vmlab: --mem 0: RAM must be at least 4K$/m],
    [['--mem', '99999999999999999999T'], /too large to be a size/],
  ])('refuses %j with the reason', (args, message) => {
    expectOneLine(vmlab(['run', TRAPS, ...args]), message);
  });

  /** Runs the CLI in a child node that reports its own peak RSS (KiB) on the last stderr line. */
  function peakRss(args: string[]): { code: number | null; rssMiB: number } {
    const build = pathToFileURL(join(REPO_ROOT, 'scripts', 'build-cli.mjs')).href;
    const code = `const { ensureCliBuilt } = await import(process.argv[1]); const { main } = await import(await ensureCliBuilt());
      const code = await main(process.argv.slice(2)); process.stderr.write('maxrss ' + process.resourceUsage().maxRSS + '\\n'); process.exitCode = code;`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', code, build, ...args], { cwd: dir, encoding: 'latin1', timeout: 120_000 });
    const m = /maxrss (\d+)/.exec(r.stderr);
    if (!m) throw new Error(r.stderr);
    return { code: r.status, rssMiB: Number(m[1]) / 1024 };
  }

  it.each([
    [['--mem', '2G']],
    [['--mem', '1984M', '--mode', 'trap']],
    [['--mem', '1984M', '--mode', 'emulate']],
  ])('commits guest RAM as the guest touches it (%j: the peak RSS stays far below the RAM size)', (args) => {
    const r = peakRss(['run', TRAPS, ...args]);
    expect(r.code).toBe(0);
    expect(r.rssMiB).toBeLessThan(600);
  }, 120_000);
});

describe('one clear line for bad input', () => {
  it.each([
    [['run', TRAPS, '--trace', '/nonexistent/dir/trace.log'], /^vmlab: --trace \/nonexistent\/dir\/trace.log: cannot write the file: its folder does not exist$/m],
    [['run', TRAPS, '--stats-file', '/nonexistent/dir/s.json'], /^vmlab: --stats-file \/nonexistent\/dir\/s.json: cannot write the file: its folder does not exist$/m],
    [['run', TRAPS, '--stats-file', '/tmp'], /^vmlab: --stats-file \/tmp: cannot write the file: it is a folder$/m],
    [['run', TRAPS, '--cpu', 'rv32,pmp=false=true'], /CPU property pmp takes on or off, got 'false=true'/],
    [['disk', 'info', '/nonexistent/x.img'], /^vmlab: .*\/nonexistent\/x.img.* (does not exist|no such file)/m],
    [['disk', 'create', 'big.img', '100T'], /100T is larger than vmlab's largest disk, 64G/],
    [['disk', 'create', '/nonexistent/dir/x.img', '1M'], /^vmlab: cannot create '\/nonexistent\/dir\/x.img': the folder '\/nonexistent\/dir' does not exist$/m],
    [['asm', TRAPS, '-o', '/nonexistent/dir/x.elf'], /^vmlab: cannot write '\/nonexistent\/dir\/x.elf': its folder does not exist$/m],
    [['vms', 'ok.vm.json', '--console-dir', '/proc/nonexistent/logs'], /^vmlab: --console-dir \/proc\/nonexistent\/logs: the folder '\/proc\/nonexistent' does not exist$/m],
    [['vms', 'ok.vm.json', '--host-mem', '5G'], /^vmlab: --host-mem 5G is too large: .*the most is 2G$/m],
  ])('%j', (args, message) => {
    expectOneLine(vmlab(args), message);
  });

  it('takes a T suffix for disk sizes up to the bound', () => {
    const r = vmlab(['disk', 'create', 'big.qcow2', '64G']);
    expect(r.code).toBe(0);
    expect(JSON.parse(vmlab(['disk', 'info', 'big.qcow2', '--json']).stdout).virtualSize).toBe(64 * 1024 ** 3);
    expectOneLine(vmlab(['disk', 'create', 'big.qcow2', '1T']), /1T is larger than vmlab's largest disk, 64G/);
  });

  it('prints each assembler error once, and an undefined symbol in la without a %pcrel_lo cascade', () => {
    writeFileSync(join(dir, 'bad.S'), '.globl _start\n_start:\n  la a0, nosuch\n  lla a1, other\n  bogus x1\n  j _start\n');
    const r = vmlab(['run', 'bad.S']);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n').filter(Boolean).sort()).toEqual([
      "bad.S:3:10: error: undefined symbol 'nosuch'",
      "bad.S:4:11: error: undefined symbol 'other'",
      "bad.S:5:3: error: unknown instruction 'bogus'",
    ]);
  });
});

describe('a kernel that is not an ELF file', () => {
  it('says where a text file went and that it does not look like code', () => {
    writeFileSync(join(dir, 'notes.txt'), 'These are my notes for the lab.\nRemember to run the traps lab.\n');
    const r = vmlab(['run', 'notes.txt', '--max-insns', '1000']);
    expect(r.stderr.split('\n').slice(0, 2)).toEqual([
      "vmlab: 'notes.txt' is not an ELF file: loaded as a raw image of 63 bytes at 0x80000000, entry there",
      "vmlab: warning: 'notes.txt' looks like a text file, not RISC-V code (assemble a source with a .S or .s name, or vmlab asm)",
    ]);
  });

  it('warns about random bytes', () => {
    let x = 12345;
    const bytes = Uint8Array.from({ length: 4096 }, () => ((x = (x * 1103515245 + 12345) >>> 0) >>> 24));
    writeFileSync(join(dir, 'noise.bin'), bytes);
    const r = vmlab(['run', 'noise.bin', '--max-insns', '1000']);
    expect(r.stderr).toMatch(/^vmlab: 'noise.bin' is not an ELF file: loaded as a raw image of 4096 bytes at 0x80000000, entry there\nvmlab: warning: 'noise.bin' does not look like RISC-V code: the bytes at 0x800000[0-3][0-9a-f] are no instruction\n/);
  });

  it('says nothing about a raw image of real code, and refuses an empty file', () => {
    const elf = join(dir, 'traps.elf');
    expect(vmlab(['asm', TRAPS, '-o', elf]).code).toBe(0);
    const raw = join(dir, 'traps.bin');
    expect(spawnSync('riscv64-unknown-elf-objcopy', ['-O', 'binary', elf, raw]).status).toBe(0);
    const r = vmlab(['run', raw]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(`vmlab: '${raw}' is not an ELF file: loaded as a raw image of ${readFileSync(raw).length} bytes at 0x80000000, entry there\n`);
    writeFileSync(join(dir, 'empty.bin'), '');
    expectOneLine(vmlab(['run', 'empty.bin']), /^vmlab: 'empty.bin' is empty: there is no kernel to load$/m);
  });
});

describe('*.vm.json fields', () => {
  const write = (name: string, body: object): string => {
    writeFileSync(join(dir, name), JSON.stringify(body));
    return name;
  };
  const paging = join(LABS, 'paging', 'paging.S');

  it.each([
    [{ name: 'a', kernel: paging, mode: 'trap', memory: 'lots' }, /^vmlab: m.vm.json: memory: expected a size like "16M" or "1G", got "lots"$/m],
    [{ name: 'a', kernel: paging, mode: 'trap', memory: '4G' }, /^vmlab: m.vm.json: memory 4G is too large for a VM: .*the most is 1984M$/m],
    [{ name: 'a', mode: 'trap' }, /^vmlab: m.vm.json: the field "kernel" is missing \(expected string\)$/m],
    [{ name: 'a', kernel: paging, mode: 'fast' }, /^vmlab: m.vm.json: "mode": expected one of "emulate", "trap", "bt", "pv", "hw", got "fast"$/m],
    [{ name: 'a', kernel: paging, mode: 'trap', placement: { explicit: [['zz', 'c0']] } }, /^vmlab: m.vm.json: "placement": expected "contiguous", "scattered" or/m],
  ])('%j', (body, message) => {
    expectOneLine(vmlab(['vms', write('m.vm.json', body)]), message);
  });

  it('takes explicit placement frames in hex as the app writes them, and reports with thousands separators', () => {
    const f = write('lecture.vm.json', { name: 'lecture', kernel: paging, mode: 'trap', memory: '1M', placement: { explicit: [['a1', 'c0'], ['0xa2', 'c1'], ['a3', 'c4']], rest: 'scattered' } });
    const hex = vmlab(['vms', f, '--stats', 'json']);
    expect(hex.code).toBe(0);
    const numeric = write('numeric.vm.json', { name: 'lecture', kernel: paging, mode: 'trap', memory: '1M', placement: { explicit: [[0xa1, 0xc0], [0xa2, 0xc1], [0xa3, 0xc4]], rest: 'scattered' } });
    expect(vmlab(['vms', numeric, '--stats', 'json']).stdout).toBe(hex.stdout);
    const table = vmlab(['vms', f]);
    const row = JSON.parse(hex.stderr.trim())[0];
    const n = (v: number): string => v.toLocaleString('en-US');
    expect(row.instructions).toBeGreaterThan(1000);
    expect(table.stderr).toBe(`lecture (trap): exit 0; ${n(row.instructions)} instructions, ${n(row.exits)} exits, ${n(row.modeledCycles)} modeled cycles\n`);
  });
});
