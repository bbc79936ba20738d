// The structure lab (issue 19): a monolithic kernel and a microkernel with the same services run
// the same user program and print the same console, bare, in every VMM mode and on
// qemu-system-riscv32, and leave the same bytes on the disk as QEMU does. Their costs are measured
// from the engine's statistics by difference (the same program with a loop of 400 operations
// against 200) and must be those of the lab's README; the scribble switch crashes or silently
// corrupts the monolithic kernel, while the microkernel restarts its file server and goes on.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { assembleFile } from '../../src/cli/kernel-input';
import { readVmFile } from '../../src/cli/commands/vms';
import { RawDisk } from '../../src/engine/disk/raw';
import { MemoryByteStore } from '../../src/engine/disk/types';
import { Machine, StopReason } from '../../src/engine/machine/machine';
import { compareKernels, type KernelCompareRow } from '../../src/engine/vmm/compare';
import { VM_MODES, type VmMode } from '../../src/engine/vmm/vm';
import { Vmm } from '../../src/engine/vmm/vmm';
import { REPO_ROOT } from '../support/build';
import { runQemu } from '../support/qemu';
import { requireTool, tool } from '../support/tools';

const LAB = join(REPO_ROOT, 'labs', 'structure');
const KERNELS = ['mono', 'micro'] as const;
type Kernel = (typeof KERNELS)[number];
const MiB = 1024 * 1024;
const MEM = 16 * MiB;
const DISK_BYTES = 64 * 1024;
const tmp = mkdtempSync(join(tmpdir(), 'vmlab-structure-'));
const elves = new Map<Kernel, { elf: Uint8Array; path: string }>();

const expected = (name: string): string => readFileSync(join(LAB, name), 'latin1');

/** A console, how the run ended and the guest's exit code. */
interface Run {
  output: string;
  end: string;
  exitCode: number | null;
}

/** Boots `kernel` on `image` (changed in place) bare or in a VM, with `bootargs`. */
function boot(kernel: Kernel, image: Uint8Array, mode: 'bare' | VmMode = 'bare', bootargs = '', maxSteps = 20_000_000): Run {
  const store = new MemoryByteStore(image);
  const disks = [{ device: new RawDisk(store) }];
  const out: number[] = [];
  const elf = elves.get(kernel)!.elf;
  let run: Run;
  if (mode === 'bare') {
    const m = new Machine({ ramSize: MEM, disks, bootargs, onUart: (b) => out.push(b) });
    m.loadKernel(elf);
    let reason: StopReason = StopReason.BUDGET;
    for (let left = maxSteps; left > 0 && reason === StopReason.BUDGET; left -= 1_000_000) reason = m.run(Math.min(left, 1_000_000));
    run = { output: '', end: reason === StopReason.EXIT ? 'exit' : 'budget', exitCode: reason === StopReason.EXIT ? (m.exitCode ?? null) : null };
  } else {
    const vmm = new Vmm({ hostRamSize: MEM + 64 * MiB });
    const vm = vmm.createVm({ name: kernel, mode, kernel: elf, memSize: MEM, disks, bootargs, onUart: (b) => out.push(b) });
    for (let used = 0; used < maxSteps && vmm.active; used += 1_000_000) vmm.run(1_000_000);
    run = { output: '', end: vm.state, exitCode: vm.exitCode ?? null };
  }
  image.set(store.contents());
  return { ...run, output: Buffer.from(out).toString('latin1') };
}

beforeAll(() => {
  for (const k of KERNELS) {
    const r = assembleFile(join(LAB, `${k}.S`));
    const errors = r.diagnostics.filter((d) => d.severity === 'error');
    if (!r.elf || errors.length > 0) throw new Error(`${k}.S: ${errors.map((d) => `${d.file}:${d.line}: ${d.message}`).join('; ')}`);
    const path = join(tmp, `${k}.elf`);
    writeFileSync(path, r.elf);
    elves.set(k, { elf: r.elf, path });
  }
});

describe('the same user program on both kernels', () => {
  test.each(['bare', ...VM_MODES] as const)('%s: both print expected-output.txt on a fresh disk, and each reads the disk the other wrote', (mode) => {
    for (const [first, second] of [['mono', 'micro'], ['micro', 'mono']] as const) {
      const image = new Uint8Array(DISK_BYTES);
      expect(boot(first, image, mode)).toEqual({ output: expected('expected-output.txt'), end: mode === 'bare' ? 'exit' : 'halted', exitCode: 0 });
      expect(boot(second, image, mode)).toEqual({ output: expected('expected-output-second-boot.txt'), end: mode === 'bare' ? 'exit' : 'halted', exitCode: 0 });
    }
  });

  test.each(KERNELS)('%s on QEMU prints the same and leaves the same disk bytes as vmlab (qemu-img compare)', async (k) => {
    const img = join(tmp, `qemu-${k}.img`);
    writeFileSync(img, new Uint8Array(DISK_BYTES));
    const q = await runQemu(elves.get(k)!.path, { memMiB: MEM / MiB, timeoutMs: 30_000, extraArgs: ['-drive', `file=${img},if=none,format=raw,id=d`, '-device', 'virtio-blk-device,drive=d'] });
    expect({ output: q.output.toString('latin1'), exitCode: q.exitCode, timedOut: q.timedOut }).toEqual({ output: expected('expected-output.txt'), exitCode: 0, timedOut: false });
    const ours = new Uint8Array(DISK_BYTES);
    boot(k, ours);
    const mine = join(tmp, `vmlab-${k}.img`);
    writeFileSync(mine, ours);
    expect(execFileSync(requireTool('qemu-img', 'qemu-utils'), ['compare', '-f', 'raw', '-F', 'raw', img, mine], { encoding: 'utf8' })).toMatch(/Images are identical/);
    expect(Array.from(ours.subarray(0, 4))).toEqual([0x56, 0x4d, 0x46, 0x53]); // "VMFS"
  });

  test('the boot options reach the kernels through the device tree on QEMU too (-append)', async () => {
    for (const k of KERNELS) {
      const img = join(tmp, `qemu-args-${k}.img`);
      writeFileSync(img, new Uint8Array(DISK_BYTES));
      const q = await runQemu(elves.get(k)!.path, { memMiB: MEM / MiB, timeoutMs: 30_000, extraArgs: ['-append', 'reads=3 pings=2 calls=1', '-drive', `file=${img},if=none,format=raw,id=d`, '-device', 'virtio-blk-device,drive=d'] });
      const image = new Uint8Array(DISK_BYTES);
      expect(q.output.toString('latin1')).toBe(boot(k, image, 'bare', 'reads=3 pings=2 calls=1').output);
      expect(q.output.toString('latin1')).toMatch(/^1 procedure calls\n2 null requests: 2 answered\n3 reads of 4 bytes: 0 failed/m);
    }
  });

  test('without a disk both say how to attach one and fail', () => {
    for (const k of KERNELS) {
      const out: number[] = [];
      const m = new Machine({ ramSize: MEM, onUart: (b) => out.push(b) });
      m.loadKernel(elves.get(k)!.elf);
      expect(m.run(1_000_000)).toBe(StopReason.EXIT);
      expect({ output: Buffer.from(out).toString('latin1'), exitCode: m.exitCode }).toEqual({ output: 'no disk: run with --disk FILE (vmlab) or -drive/-device virtio-blk-device (QEMU)\n', exitCode: 1 });
    }
  });
});

/** One kernel's cost of one operation or of the whole program, as the README's table gives it. */
interface Cost {
  instructions: number;
  traps: number;
  trapExits: number;
  trapCycles: number;
}

/** Runs both kernels bare and in trap mode with `bootargs` on fresh disks. */
function measure(bootargs: string): KernelCompareRow[] {
  const kernels = KERNELS.map((k) => ({ name: k, bytes: elves.get(k)!.elf }));
  const rows = compareKernels(kernels, { memSize: MEM, modes: ['bare', 'trap'], warmUpSteps: 0, boot: { bootargs }, disks: () => [{ device: new RawDisk(new MemoryByteStore(new Uint8Array(DISK_BYTES))) }] });
  for (const r of rows) expect(r.end, `${r.kernel} ${r.mode} ${bootargs}`).toBe('exit');
  return rows;
}

/** A kernel's figures from the rows of `measure` (the difference of two runs divided by `per`). */
function cost(rows: KernelCompareRow[], base: KernelCompareRow[] | undefined, k: Kernel, per = 1): Cost {
  const get = (rs: KernelCompareRow[], mode: string) => rs.find((r) => r.kernel === k && r.mode === mode)!;
  const d = (f: (r: KernelCompareRow) => number, mode: string) => Math.round((f(get(rows, mode)) - (base === undefined ? 0 : f(get(base, mode)))) / per);
  return { instructions: d((r) => r.instructions, 'bare'), traps: d((r) => r.traps, 'bare'), trapExits: d((r) => r.exits, 'trap'), trapCycles: d((r) => r.modeledCycles, 'trap') };
}

/** The README's cost table: operation → kernel → figures. */
function readmeCosts(): Map<string, Map<string, Cost>> {
  const table = new Map<string, Map<string, Cost>>();
  const num = (s: string) => Number(s.replace(/,/g, ''));
  for (const m of expected('README.md').matchAll(/^\| ([a-z0-9 -]+) \| (mono|micro) \| ([\d,]+) \| ([\d,]+) \| ([\d,]+) \| ([\d,]+) \|$/gm)) {
    if (!table.has(m[1])) table.set(m[1], new Map());
    table.get(m[1])!.set(m[2], { instructions: num(m[3]), traps: num(m[4]), trapExits: num(m[5]), trapCycles: num(m[6]) });
  }
  return table;
}

describe('the cost of structure, measured', () => {
  const N = 200;
  const perOp: Record<string, Record<Kernel, Cost>> = {};
  let whole: Record<Kernel, Cost>;

  beforeAll(() => {
    for (const [op, key] of [['procedure call', 'calls'], ['null request', 'pings'], ['small read', 'reads']]) {
      const others = 'reads=0 pings=0 calls=0';
      const a = measure(`${key}=${N} ${others}`);
      const b = measure(`${key}=${2 * N} ${others}`);
      perOp[op] = { mono: cost(b, a, 'mono', N), micro: cost(b, a, 'micro', N) };
    }
    const rows = measure('');
    whole = { mono: cost(rows, undefined, 'mono'), micro: cost(rows, undefined, 'micro') };
  });

  test("the README's table gives exactly the measured figures", () => {
    const table = readmeCosts();
    expect([...table.keys()]).toEqual(['procedure call', 'null request', 'small read', 'whole program']);
    for (const op of Object.keys(perOp)) for (const k of KERNELS) expect(table.get(op)!.get(k), `${op} ${k}`).toEqual(perOp[op][k]);
    for (const k of KERNELS) expect(table.get('whole program')!.get(k), k).toEqual(whole[k]);
  });

  test('a procedure call costs the same in both kernels and no trap', () => {
    expect(perOp['procedure call'].micro).toEqual(perOp['procedure call'].mono);
    expect(perOp['procedure call'].mono.traps).toBe(0);
    expect(perOp['procedure call'].mono.trapExits).toBe(0);
  });

  test('a request is one trap in the monolithic kernel and an IPC round trip of two in the microkernel, which costs more of everything', () => {
    for (const op of ['null request', 'small read']) {
      const { mono, micro } = perOp[op];
      expect([mono.traps, micro.traps]).toEqual([1, 2]);
      expect(micro.instructions).toBeGreaterThan(mono.instructions);
      expect(mono.instructions).toBeGreaterThan(10 * perOp['procedure call'].mono.instructions);
      expect(micro.trapExits).toBeGreaterThan(mono.trapExits);
      // In a VM every trap and every switch of the memory protection is an exit: the gap widens.
      expect(micro.trapCycles / mono.trapCycles).toBeGreaterThan(micro.instructions / mono.instructions);
    }
    // The file service's own work is the same code in both: the transport makes the whole difference.
    const ipc = perOp['null request'].micro.instructions - perOp['null request'].mono.instructions;
    expect(perOp['small read'].micro.instructions - perOp['small read'].mono.instructions).toBe(ipc);
  });

  test('the whole program costs the microkernel more instructions, traps, exits and modeled cycles', () => {
    for (const f of ['instructions', 'traps', 'trapExits', 'trapCycles'] as const) expect(whole.micro[f], f).toBeGreaterThan(whole.mono[f]);
  });
});

describe('the cost of a bug: the scribble switch', () => {
  const modes = ['bare', ...VM_MODES] as const;
  const halted = (mode: string) => (mode === 'bare' ? 'exit' : 'halted');

  test.each(modes)('%s: scribble=6 brings the monolithic kernel down (a panic, the user program never finishes)', (mode) => {
    expect(boot('mono', new Uint8Array(DISK_BYTES), mode, 'scribble=6')).toEqual({ output: expected('expected-scribble-panic.txt'), end: halted(mode), exitCode: 3 });
    expect(expected('expected-scribble-panic.txt')).toMatch(/\nkernel panic: the kernel faulted: mcause 0x00000002, mepc 0x[0-9a-f]{8}, mtval 0x[0-9a-f]{8}\n$/);
  });

  test.each(modes)('%s: scribble=15 corrupts the monolithic kernel\'s directory silently; the damage is on the disk at the next boot', (mode) => {
    const image = new Uint8Array(DISK_BYTES);
    expect(boot('mono', image, mode, 'scribble=15')).toEqual({ output: expected('expected-scribble-corrupt.txt'), end: halted(mode), exitCode: 0 });
    expect(boot('mono', image, mode)).toEqual({ output: expected('expected-scribble-corrupt-next-boot.txt'), end: halted(mode), exitCode: 0 });
    const lines = (f: string) => expected(f).split('\n');
    const differ = lines('expected-scribble-corrupt.txt').filter((l, i) => l !== lines('expected-output.txt')[i]);
    expect(differ).toEqual(['  n1tes.txt 73']);
    expect(lines('expected-scribble-corrupt-next-boot.txt').slice(0, 3)).toEqual(['files on the disk:', '  hello.txt 28', '  n1tes.txt 73']);
  });

  // A livelock: the user program's system call comes back to the same ecall, forever. The kernel's
  // handler runs each time, so in every mode the machine just keeps running (in hw mode every ecall
  // is an exit at the same pc, but the guest's interpreted M-mode handler is progress, not a storm).
  test.each(modes)('%s: scribble=1 hangs the monolithic kernel without a word', (mode) => {
    const r = boot('mono', new Uint8Array(DISK_BYTES), mode, 'scribble=1', 3_000_000);
    const upTo = expected('expected-output.txt').split('null requests: 10 answered\n')[0] + 'null requests: 10 answered\n';
    expect(r).toEqual({ output: upTo, end: mode === 'bare' ? 'budget' : 'running', exitCode: null });
  });

  test.each(modes)('%s: the same bug in the microkernel\'s file server: it faults, the kernel restarts it, the program loses one read and its open files and goes on', (mode) => {
    for (const seed of [6, 15, 1]) {
      const image = new Uint8Array(DISK_BYTES);
      const r = boot('micro', image, mode, `scribble=${seed}`);
      expect(r.end).toBe(halted(mode));
      expect(r.exitCode).toBe(0);
      if (seed === 15) expect(r.output).toBe(expected('expected-scribble-micro.txt'));
      expect(r.output.replace(/mepc 0x[0-9a-f]+, mtval 0x[0-9a-f]+/, 'mepc -, mtval -')).toBe(expected('expected-scribble-micro.txt').replace(/mepc 0x[0-9a-f]+, mtval 0x[0-9a-f]+/, 'mepc -, mtval -'));
      expect(boot('micro', image, mode).output).toBe(expected('expected-output-second-boot.txt'));
    }
    const micro = expected('expected-scribble-micro.txt');
    expect(micro).toMatch(/\nkernel: the file server faulted: mcause 0x00000007, .*\nkernel: restarting it; its client gets -9\nthe file server died on a read: open notes.txt again\nopen notes.txt: fd 0\n10 reads of 4 bytes: 1 failed, checksum 0x[0-9a-f]{8}\n/);
  });

  test.each([['mono', 6, 'expected-scribble-panic.txt', 3], ['mono', 15, 'expected-scribble-corrupt.txt', 0], ['micro', 15, 'expected-scribble-micro.txt', 0]] as const)('QEMU: %s with scribble=%i prints %s', async (k, seed, file, exitCode) => {
    const img = join(tmp, `qemu-scribble-${k}-${seed}.img`);
    writeFileSync(img, new Uint8Array(DISK_BYTES));
    const q = await runQemu(elves.get(k)!.path, { memMiB: MEM / MiB, timeoutMs: 30_000, extraArgs: ['-append', `scribble=${seed}`, '-drive', `file=${img},if=none,format=raw,id=d`, '-device', 'virtio-blk-device,drive=d'] });
    expect({ output: q.output.toString('latin1'), exitCode: q.exitCode, timedOut: q.timedOut }).toEqual({ output: expected(file), exitCode, timedOut: false });
  });

  test('the monolithic kernel in a VM beside healthy VMs crashes only its own (the lab\'s vms/*.vm.json)', () => {
    const files = ['mono-scribble', 'mono', 'micro'].map((n) => readVmFile(join(LAB, 'vms', `${n}.vm.json`)));
    expect(files.map((f) => [f.name, f.kernel, f.append ?? ''])).toEqual([['mono-scribble', '../mono.S', 'scribble=6'], ['mono', '../mono.S', ''], ['micro', '../micro.S', '']]);
    const vmm = new Vmm({ hostRamSize: 3 * MEM + 64 * MiB });
    const outs = files.map(() => [] as number[]);
    const vms = files.map((f, i) => vmm.createVm({
      name: f.name, mode: f.mode as VmMode, memSize: MEM, kernel: elves.get(f.kernel === '../mono.S' ? 'mono' : 'micro')!.elf,
      bootargs: f.append, disks: [{ device: new RawDisk(new MemoryByteStore(new Uint8Array(DISK_BYTES))) }], onUart: (b) => outs[i].push(b),
    }));
    for (let i = 0; i < 100 && vmm.active; i++) vmm.run(1_000_000);
    expect(vms.map((vm, i) => [vm.state, vm.exitCode, Buffer.from(outs[i]).toString('latin1')])).toEqual([
      ['halted', 3, expected('expected-scribble-panic.txt')],
      ['halted', 0, expected('expected-output.txt')],
      ['halted', 0, expected('expected-output.txt')],
    ]);
  });
});

test('the lab sources are GNU as compatible', () => {
  const as = tool('riscv64-unknown-elf-as');
  for (const k of KERNELS) {
    execFileSync(as, ['-march=rv32imac_zicsr_zifencei', '-mabi=ilp32', '-mno-relax', '-I', LAB, '-o', join(tmp, `${k}-gnu.o`), join(LAB, `${k}.S`)], { stdio: ['ignore', 'pipe', 'pipe'] });
  }
});
