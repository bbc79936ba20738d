// Runs one script of MMIO operations twice: inside QEMU's virt machine (a small guest built with GNU as
// walks the script, records every read, then prints the records over the UART) and against vmlab's
// devices on a Bus. Both sides report the recorded values and the bytes the UART transmitted, so a test
// compares vmlab with the reference machine register by register.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Clint } from '../../src/engine/devices/clint';
import type { IrqLine, TimeSource } from '../../src/engine/devices/irq';
import { Plic } from '../../src/engine/devices/plic';
import { TestFinisher } from '../../src/engine/devices/test-finisher';
import { Uart16550 } from '../../src/engine/devices/uart16550';
import { Bus } from '../../src/engine/machine/bus';
import { IRQ, MEMORY_MAP } from '../../src/engine/machine/memory-map';
import { runQemu, type QemuResult } from '../support/qemu';
import { tool } from '../support/tools';

/** One step of a probe script. Reads and `mip` record a value; writes record nothing. */
export type ProbeOp =
  | { op: 'r8' | 'r16' | 'r32'; addr: number; note?: string }
  | { op: 'w8' | 'w16' | 'w32'; addr: number; value: number }
  | { op: 'mip'; note?: string };

/** What one side observed. */
export interface ProbeResult {
  /** One value per recording op, in script order. */
  values: number[];
  /** Bytes the UART transmitted while the script ran. */
  tx: number[];
}

const KIND = { r32: 1, w32: 2, r8: 3, w8: 4, mip: 5, r16: 6, w16: 7 } as const;
const MARKER = '@@PROBE@@';
const FAULT = '@@FAULT@@';
const END = '@@END@@';
/** QEMU exits on the finisher write and may drop serial bytes not yet flushed: runs are retried. */
const ATTEMPTS = 3;

/** mip bits the devices drive (privileged spec §3.1.9). */
export const MIP = { MSIP: 1 << 3, MTIP: 1 << 7, SEIP: 1 << 9, MEIP: 1 << 11 } as const;

function guestSource(script: readonly ProbeOp[]): string {
  const table = script
    .map((s) => `  .word ${KIND[s.op]}, 0x${('addr' in s ? s.addr : 0).toString(16)}, 0x${(('value' in s ? s.value : 0) >>> 0).toString(16)}`)
    .join('\n');
  const records = script.filter((s) => !s.op.startsWith('w')).length;
  return `
  .text
  .globl _start
_start:
  la t0, trap
  csrw mtvec, t0
  la s0, ops
  la s1, results
  la s2, ops_end
next:
  bgeu s0, s2, done
  lw t0, 0(s0)
  lw t1, 4(s0)
  lw t2, 8(s0)
  addi s0, s0, 12
  li t3, 1
  beq t0, t3, r32
  li t3, 2
  beq t0, t3, w32
  li t3, 3
  beq t0, t3, r8
  li t3, 4
  beq t0, t3, w8
  li t3, 5
  beq t0, t3, mip
  li t3, 6
  beq t0, t3, r16
  sh t2, 0(t1)
  j next
r32: lw t4, 0(t1)
  j record
w32: sw t2, 0(t1)
  j next
r8: lbu t4, 0(t1)
  j record
w8: sb t2, 0(t1)
  j next
r16: lhu t4, 0(t1)
  j record
mip: csrr t4, mip
record:
  sw t4, 0(s1)
  addi s1, s1, 4
  j next
done:
  li t1, 0x${MEMORY_MAP.uart0.base.toString(16)}
  li t2, 3
  sb t2, 3(t1)
  sb zero, 1(t1)
  sb zero, 4(t1)
  la s0, marker
marker_loop:
  lbu t6, 0(s0)
  beqz t6, print
  call putc
  addi s0, s0, 1
  j marker_loop
print:
  la s0, results
print_loop:
  bgeu s0, s1, end
  lw t4, 0(s0)
  addi s0, s0, 4
  li t5, 28
digit:
  srl t6, t4, t5
  andi t6, t6, 15
  li a0, 10
  blt t6, a0, decimal
  addi t6, t6, 39
decimal:
  addi t6, t6, 48
  call putc
  addi t5, t5, -4
  bgez t5, digit
  li t6, 10
  call putc
  j print_loop
putc:
  lbu a1, 5(t1)
  andi a1, a1, 0x20
  beqz a1, putc
  sb t6, 0(t1)
  ret
end:
  la s0, end_marker
end_loop:
  lbu t6, 0(s0)
  beqz t6, settle
  call putc
  addi s0, s0, 1
  j end_loop
settle:
  li t0, 2000000
settle_loop:
  addi t0, t0, -1
  bnez t0, settle_loop
finish:
  li t1, 0x${MEMORY_MAP.testFinisher.base.toString(16)}
  li t2, 0x5555
  sw t2, 0(t1)
  j finish
  .balign 4
trap:
  la t0, ops
  sub s4, s0, t0
  csrr s5, mcause
  li t1, 0x${MEMORY_MAP.uart0.base.toString(16)}
  li t2, 3
  sb t2, 3(t1)
  la s0, fault
fault_loop:
  lbu t6, 0(s0)
  beqz t6, fault_end
  call putc
  addi s0, s0, 1
  j fault_loop
fault_end:
  la s0, results
  sw s4, 0(s0)
  sw s5, 4(s0)
  addi s1, s0, 8
  j print
  .data
marker: .asciz "${MARKER}\\n"
fault: .asciz "${FAULT}\\n"
end_marker: .asciz "${END}\\n"
  .balign 4
ops:
${table}
ops_end:
results: .space ${4 * Math.max(1, records)}
`;
}

/** Assembles and links `source` at 0x80000000 and runs it on qemu-system-riscv32 -machine virt. */
export async function runQemuSource(source: string): Promise<QemuResult> {
  const as = tool('riscv64-unknown-elf-as');
  const ld = tool('riscv64-unknown-elf-ld');
  const dir = mkdtempSync(join(tmpdir(), 'vmlab-probe-'));
  try {
    writeFileSync(join(dir, 'probe.S'), source);
    execFileSync(as, ['-march=rv32imac_zicsr_zifencei', '-mabi=ilp32', '-o', join(dir, 'probe.o'), join(dir, 'probe.S')]);
    execFileSync(ld, ['-m', 'elf32lriscv', '--no-relax', '-Ttext=0x80000000', '-o', join(dir, 'probe.elf'), join(dir, 'probe.o')]);
    return await runQemu(join(dir, 'probe.elf'), { timeoutMs: 20_000 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Builds the probe guest for `script` and runs it on qemu-system-riscv32 -machine virt. */
export async function probeQemu(script: readonly ProbeOp[]): Promise<ProbeResult> {
  let run = await runQemuSource(guestSource(script));
  for (let i = 1; i < ATTEMPTS && !run.output.toString('latin1').endsWith(`${END}\n`); i++) run = await runQemuSource(guestSource(script));
  if (run.timedOut || run.exitCode !== 0) throw new Error(`QEMU probe failed (exit ${run.exitCode}, timed out ${run.timedOut}): ${run.stderr} output ${JSON.stringify(run.output.toString('latin1'))}`);
  const all = run.output.toString('latin1');
  if (!all.endsWith(`${END}\n`)) throw new Error(`QEMU probe output is incomplete after ${ATTEMPTS} runs: ${JSON.stringify(all)}`);
  const text = all.slice(0, all.length - END.length - 1);
  const fault = text.lastIndexOf(`${FAULT}\n`);
  if (fault >= 0) {
    const [end, cause] = text.slice(fault + FAULT.length + 1).split('\n').map((l) => parseInt(l, 16));
    throw new Error(`probe op #${end / 12 - 1} (${JSON.stringify(script[end / 12 - 1])}) trapped in QEMU with mcause ${cause}`);
  }
  const at = text.lastIndexOf(`${MARKER}\n`);
  if (at < 0) throw new Error(`QEMU probe printed no results: ${JSON.stringify(text)}`);
  const tx = [...run.output.subarray(0, at)];
  const values = text.slice(at + MARKER.length + 1).split('\n').filter((l) => l !== '').map((l) => parseInt(l, 16) >>> 0);
  return { values, tx };
}

/** vmlab's devices wired as on the virt machine, with mip collected from their lines. */
export class DeviceRig {
  mip = 0;
  readonly tx: number[] = [];
  readonly exits: number[] = [];
  resets = 0;
  readonly bus = new Bus(MEMORY_MAP.ram.base, 4096);
  readonly plic: Plic;
  readonly clint: Clint;
  readonly uart: Uart16550;

  constructor(time: TimeSource = { now: () => 0 }) {
    const line = (bit: number): IrqLine => ({ set: (level) => { this.mip = level ? this.mip | bit : this.mip & ~bit; } });
    this.plic = new Plic([line(MIP.MEIP), line(MIP.SEIP)]);
    this.clint = new Clint(time, line(MIP.MSIP), line(MIP.MTIP));
    this.uart = new Uart16550(this.plic.irqLine(IRQ.uart0), (b) => this.tx.push(b));
    const finisher = new TestFinisher((code) => this.exits.push(code), () => this.resets++);
    this.bus.map(MEMORY_MAP.testFinisher.base, MEMORY_MAP.testFinisher.size, finisher);
    this.bus.map(MEMORY_MAP.clint.base, MEMORY_MAP.clint.size, this.clint);
    this.bus.map(MEMORY_MAP.plic.base, MEMORY_MAP.plic.size, this.plic);
    this.bus.map(MEMORY_MAP.uart0.base, MEMORY_MAP.uart0.size, this.uart);
    this.uart.reset();
    this.plic.reset();
    this.clint.reset();
  }

  /** Runs `script` on the devices. */
  probe(script: readonly ProbeOp[]): ProbeResult {
    const values: number[] = [];
    for (const s of script) {
      switch (s.op) {
        case 'r8': values.push(this.bus.load(s.addr, 1)); break;
        case 'r16': values.push(this.bus.load(s.addr, 2)); break;
        case 'r32': values.push(this.bus.load(s.addr, 4)); break;
        case 'w8': this.bus.store(s.addr, 1, s.value); break;
        case 'w16': this.bus.store(s.addr, 2, s.value); break;
        case 'w32': this.bus.store(s.addr, 4, s.value); break;
        case 'mip': values.push(this.mip >>> 0); break;
      }
    }
    return { values, tx: this.tx.slice() };
  }
}

/** Labels for the recording ops of `script`, to make a mismatch readable. */
export function probeLabels(script: readonly ProbeOp[]): string[] {
  return script
    .map((s, i) => ({ s, i }))
    .filter(({ s }) => !s.op.startsWith('w'))
    .map(({ s, i }) => `#${i} ${s.op}${'addr' in s ? ` 0x${s.addr.toString(16)}` : ''}${'note' in s && s.note ? ` (${s.note})` : ''}`);
}
