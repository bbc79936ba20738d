// HTIF: the same tohost commands run on QEMU 7.2's spike machine (which implements HTIF) and through
// vmlab's Htif over RAM; console bytes, fromhost replies and the exit code must agree.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { Htif } from '../../src/engine/devices/htif';
import { Bus } from '../../src/engine/machine/bus';
import { tool } from '../support/tools';

const run = promisify(execFile);
const TOHOST = 0x8000_1000;
const FROMHOST = 0x8000_1008;

/**
 * A guest that prints `text` with console putchar commands (device 1, cmd 1), checks each fromhost reply
 * is (device 1, cmd 1, 0x100 | char) and exits with `code`; a wrong reply exits with 99 instead. It
 * waits a little before the exit, since QEMU exits at once and may drop console bytes not yet flushed.
 */
function htifGuest(text: string, code: number): string {
  const chars = [...text].map((c) => `
  li a0, ${c.charCodeAt(0)}
  call putc`).join('');
  return `
  .text
  .globl _start
_start:
  la t0, tohost
  la t1, fromhost
  li a1, 0x01010000${chars}
  li a0, ${(code << 1) | 1}
  j exit
putc:
  sw a0, 0(t0)
  sw a1, 4(t0)
1: lw a2, 0(t1)
  beqz a2, 1b
  lw a3, 4(t1)
  sw zero, 0(t1)
  sw zero, 4(t1)
  ori a4, a0, 0x100
  bne a2, a4, bad
  bne a3, a1, bad
  ret
bad:
  li a0, ${(99 << 1) | 1}
exit:
  li a5, 2000000
3: addi a5, a5, -1
  bnez a5, 3b
  sw a0, 0(t0)
  sw zero, 4(t0)
2: j 2b
  .data
  .balign 8
  .globl tohost
  .type tohost, @object
  .size tohost, 8
tohost: .dword 0
  .globl fromhost
  .type fromhost, @object
  .size fromhost, 8
fromhost: .dword 0
`;
}

async function runSpike(source: string): Promise<{ output: string; code: number }> {
  const as = tool('riscv64-unknown-elf-as');
  const ld = tool('riscv64-unknown-elf-ld');
  const qemu = tool('qemu-system-riscv32');
  const dir = mkdtempSync(join(tmpdir(), 'vmlab-htif-'));
  try {
    writeFileSync(join(dir, 'g.S'), source);
    await run(as, ['-march=rv32imac_zicsr_zifencei', '-mabi=ilp32', '-o', join(dir, 'g.o'), join(dir, 'g.S')]);
    await run(ld, ['-m', 'elf32lriscv', '--no-relax', '-Ttext=0x80000000', '-o', join(dir, 'g.elf'), join(dir, 'g.o')]);
    const args = ['-machine', 'spike', '-bios', 'none', '-nographic', '-monitor', 'none', '-serial', 'stdio', '-kernel', join(dir, 'g.elf')];
    try {
      const { stdout } = await run(qemu, args, { timeout: 20_000 });
      return { output: stdout, code: 0 };
    } catch (e) {
      const err = e as { code?: number; stdout?: string; killed?: boolean };
      if (err.killed || typeof err.code !== 'number') throw e;
      return { output: err.stdout ?? '', code: err.code };
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** vmlab's side: RAM with tohost/fromhost and an Htif polled as the machine would. */
function rig(): { bus: Bus; htif: Htif; out: number[]; exits: number[]; word: (pa: number, v?: number) => number } {
  const bus = new Bus(0x8000_0000, 0x2000);
  const out: number[] = [];
  const exits: number[] = [];
  const htif = new Htif(bus, TOHOST, FROMHOST, (b) => out.push(b), (c) => exits.push(c));
  const word = (pa: number, v?: number): number => {
    if (v !== undefined) bus.store(pa, 4, v);
    return bus.load(pa, 4);
  };
  return { bus, htif, out, exits, word };
}

/** What the guest above does, step by step, with a poll between every two stores. */
function runOnVmlab(text: string, code: number): { output: string; code: number } {
  const { htif, out, exits, word } = rig();
  for (const c of text) {
    const ch = c.charCodeAt(0);
    word(TOHOST, ch);
    htif.poll();
    word(TOHOST + 4, 0x0101_0000);
    let polls = 0;
    while (word(FROMHOST) === 0 && polls++ < 4) htif.poll();
    if (word(FROMHOST) !== (0x100 | ch) || word(FROMHOST + 4) !== 0x0101_0000) return { output: String.fromCharCode(...out), code: 99 };
    word(FROMHOST, 0);
    word(FROMHOST + 4, 0);
  }
  word(TOHOST, (code << 1) | 1);
  word(TOHOST + 4, 0);
  htif.poll();
  htif.poll();
  return { output: String.fromCharCode(...out), code: exits[0] };
}

describe('HTIF against QEMU 7.2 (-machine spike)', () => {
  // 'a' and 'c' are odd: half-written, their commands look like an exit until the high word lands.
  for (const [text, code] of [['ok\n', 0], ['abc', 5]] as const) {
    it(`prints ${JSON.stringify(text)} and exits with ${code}`, async () => {
      const qemu = await runSpike(htifGuest(text, code));
      expect(qemu).toEqual({ output: text, code });
      expect(runOnVmlab(text, code)).toEqual(qemu);
    });
  }
});

describe('HTIF', () => {
  it('acts on a command only once two polls saw it, then clears tohost', () => {
    const { htif, out, exits, word } = rig();
    word(TOHOST, 0x61);
    htif.poll();
    expect(out).toEqual([]);
    word(TOHOST + 4, 0x0101_0000);
    htif.poll();
    expect(out).toEqual([]);
    htif.poll();
    expect(out).toEqual([0x61]);
    expect([word(TOHOST), word(TOHOST + 4)]).toEqual([0, 0]);
    htif.poll();
    htif.poll();
    expect(out).toEqual([0x61]);
    expect(exits).toEqual([]);
  });

  it('answers unsupported commands with 0 and no exit', () => {
    const { htif, exits, word } = rig();
    word(TOHOST, 0x1234);
    word(TOHOST + 4, 0x0100_0000);
    htif.poll();
    htif.poll();
    expect(exits).toEqual([]);
    expect([word(TOHOST), word(FROMHOST), word(FROMHOST + 4)]).toEqual([0, 0, 0x0100_0000]);
  });

  it('does nothing when tohost is outside RAM', () => {
    const bus = new Bus(0x8000_0000, 0x1000);
    const exits: number[] = [];
    const htif = new Htif(bus, 0x1000, undefined, () => {}, (c) => exits.push(c));
    htif.poll();
    htif.poll();
    expect(exits).toEqual([]);
  });
});
