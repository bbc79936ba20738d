// The guest's boot ROM under trap-and-emulate. The ROM is a device of the VM, not RAM, so the guest
// cannot run it on the physical hart: the VMM interprets it (TrapVcpu.bootThroughRom), one
// instruction at a time. It does so on a hart of its own whose RAM is a copy of the ROM at the ROM's
// address, a plain Bus as the bare machine and the interpreter's warm-up have, and not on the
// virtual hart, whose bus is the VM's guest-physical space (GuestBus): the interpreter, compiled
// by V8 for the Bus class during the warm-up, met the other class at the boot's first instruction,
// and V8 dropped its optimized code and compiled the large function twice more, 0.1 to 0.3 CPU
// seconds of every trap-mode run (docs/speed.md, "Trap mode keeps up with bare").
//
// The copy gives exactly what the virtual hart would for loads from the ROM and for instructions
// that only read and write registers and pc. Everything else runs on the virtual hart as before:
// a store (the ROM ignores it, the copy would not), a CSR access other than reading mhartid (the
// runner's hart is not the guest's), system and atomic instructions, an instruction that traps on
// the copy (an access outside the ROM, an illegal encoding), and any instruction while an
// interrupt is pending, a debug trigger is armed or a locked PMP entry may check M-mode accesses.

import { Hart, Priv } from '../../cpu/hart';
import { execute } from '../../cpu/interp';
import { widen } from '../../cpu/warmup';
import { decodeWord, EXPAND_C } from '../../isa/decode';
import { Op } from '../../isa/opcodes';
import { Bus } from '../../machine/bus';
import { MEMORY_MAP } from '../../machine/memory-map';
import type { Vm } from '../vm';

const ROM_BASE = MEMORY_MAP.bootRom.base;
const ROM_SIZE = MEMORY_MAP.bootRom.size;
const MHARTID = 0xf14;
/** PMP configuration's lock bit (privileged spec §3.7.1): the entry checks M-mode too. */
const PMP_LOCK = 0x80;

/** Interprets a VM's boot ROM for its virtual hart on a hart over a copy of the ROM. */
export class BootRomRunner {
  private hart: Hart | undefined;
  /** Instructions run on the copy, and on the virtual hart instead (for tests). */
  onCopy = 0;
  onVirtualHart = 0;

  constructor(private readonly vm: Vm) {}

  /**
   * Runs the instruction at the virtual hart's pc (in the ROM), as `execute(vh, 1)` would: the
   * virtual hart's registers, pc, sliceDone and sliceSteps are left as that call leaves them.
   */
  step(): void {
    const vh = this.vm.vhart;
    const r = this.runnerFor(vh);
    if (r === undefined) {
      this.onVirtualHart++;
      execute(vh, 1);
      return;
    }
    r.x.set(vh.x);
    r.pc = vh.pc;
    r.sliceDone = 0;
    r.sliceSteps = 0;
    const traps = trapTotal(r);
    execute(r, 1);
    if (trapTotal(r) !== traps || r.sliceSteps !== 1) {
      this.onVirtualHart++;
      execute(vh, 1);
      return;
    }
    this.onCopy++;
    vh.x.set(r.x);
    vh.pc = r.pc;
    vh.sliceDone = r.sliceDone;
    vh.sliceSteps = r.sliceSteps;
  }

  /** The runner's hart with the ROM copied in, when the instruction at vh's pc may run there. */
  private runnerFor(vh: Hart): Hart | undefined {
    if (vh.priv !== Priv.M || vh.pendingInterrupt() >= 0 || vh.triggers.armed) return undefined;
    if (vh.features.pmp && vh.pmp.cfg.some((c) => (c & PMP_LOCK) !== 0)) return undefined;
    const pc = vh.pcU;
    if ((pc & 1) !== 0 || pc < ROM_BASE || pc + 2 > ROM_BASE + ROM_SIZE) return undefined;
    const r = this.hart ?? this.makeHart(vh);
    // The ROM's bytes (the reset vector is rewritten at each kernel load).
    const bus = this.vm.bus;
    const words = r.bus.ram32;
    for (let i = 0; i < words.length; i++) words[i] = bus.load(ROM_BASE + 4 * i, 4) | 0;
    const lo = r.bus.ram16[(pc - ROM_BASE) >>> 1];
    let w: number;
    if ((lo & 3) !== 3) {
      w = EXPAND_C[lo];
    } else {
      if (pc + 4 > ROM_BASE + ROM_SIZE) return undefined;
      w = (lo | (r.bus.ram16[(pc + 2 - ROM_BASE) >>> 1] << 16)) >>> 0;
    }
    return registersOnly(w >>> 0) ? r : undefined;
  }

  private makeHart(vh: Hart): Hart {
    const f = vh.features;
    const r = new Hart(new Bus(ROM_BASE, ROM_SIZE), { pmp: false, jit: false, c: f.c, m: f.m, a: f.a, xsensitive: f.xsensitive }, vh.hartId);
    // The classes the warm-up left for harts and their fields (cpu/warmup.ts).
    widen(r);
    this.hart = r;
    return r;
  }
}

/** Whether the (expanded) instruction `w` changes only registers and pc, or reads mhartid. */
function registersOnly(w: number): boolean {
  const op = decodeWord(w);
  if ((op >= Op.LUI && op <= Op.LHU) || (op >= Op.ADDI && op <= Op.AND) || (op >= Op.MUL && op <= Op.REMU)) return true;
  if (op === Op.FENCE || op === Op.FENCE_TSO || op === Op.PAUSE) return true;
  return op === Op.CSRRS && w >>> 20 === MHARTID && ((w >>> 15) & 31) === 0;
}

/** Traps the hart has taken (any cause). */
function trapTotal(h: Hart): number {
  let n = 0;
  for (let i = 0; i < 32; i++) n += h.trapCounts[i];
  return n;
}
