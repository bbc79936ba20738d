// The lab's VMM session in process: memory in the three address spaces agrees with the engine's own
// tables (guest table, pmap and its G-stage walk), host-physical reads stay inside the VM's frames,
// edits land where the engine says, and pausing one VM leaves its neighbour running.
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadKernelFile } from '../../src/cli/kernel-input';
import { guestTable } from '../../src/engine/vmm/tables';
import { VmmSession } from '../../src/host/vmm-session';
import type { VmWorkerStatus } from '../../src/host/vmm-protocol';
import { REPO_ROOT } from '../support/build';
import { gnuAssemble } from '../support/gnu-as';

const lab = (name: string): Uint8Array => loadKernelFile(join(REPO_ROOT, 'labs', name, `${name}.S`));
const MiB = 1 << 20;

/**
 * A guest that never ends, whatever speed the host runs it at: it sleeps in wfi until its timer
 * fires 10,000 ticks on, counts, and sleeps again. (The scribble lab, used before, crashes after
 * about 1.6 M steps, which a fast host reached within the test's wall-clock slices.)
 */
const SLEEPER = gnuAssemble(`
.globl _start
_start:
  la t0, on_timer
  csrw mtvec, t0
  li t0, 0x80
  csrw mie, t0
  csrsi mstatus, 8
  li a0, 0x2004000
  li a1, 0x200bff8
sleep:
  li t0, -1
  sw t0, 4(a0)
  lw t1, 0(a1)
  li t2, 10000
  add t1, t1, t2
  sw t1, 0(a0)
  sw zero, 4(a0)
  wfi
  addi s0, s0, 1
  j sleep
.align 4
on_timer:
  li t0, -1
  sw t0, 4(a0)
  mret
`);

/** A session whose slices run only when the test says so. */
function session(): { s: VmmSession; pump: (n?: number) => void; out: Map<string, string>; status: Map<string, VmWorkerStatus> } {
  const queue: (() => void)[] = [];
  const out = new Map<string, string>();
  const status = new Map<string, VmWorkerStatus>();
  const s = new VmmSession(
    {
      uart: (key, data) => out.set(key, (out.get(key) ?? '') + new TextDecoder().decode(data)),
      status: (key, st) => status.set(key, st),
    },
    () => performance.now(),
    (fn) => queue.push(fn),
    { hostRamSize: 256 * MiB },
  );
  const pump = (n = 1): void => {
    for (let i = 0; i < n && queue.length > 0; i++) queue.shift()!();
  };
  return { s, pump, out, status };
}

describe('memory of a VM in three address spaces', () => {
  const { s, pump } = session();
  beforeAll(() => {
    s.create('p', 'paging', 'trap', 16 * MiB, 'scattered', lab('paging'), undefined);
    s.create('h', 'hello', 'emulate', 16 * MiB, 'contiguous', lab('hello'), undefined);
    // Step the paging guest until its kernel runs in S-mode with its own table on.
    for (let i = 0; i < 20_000; i++) {
      const r = s.registers('p');
      const satp = r.csrs.find((c) => c.name === 'satp')!.value;
      if (r.priv === 1 && satp >>> 31 === 1) break;
      s.step('p', 10);
    }
    s.run('h');
    pump(5);
  });

  it('guest-virtual, guest-physical and host-physical name the same bytes as the engine tables', () => {
    const vm = s.vmm.vms.find((v) => v.name === 'paging')!;
    const r = s.registers('p');
    expect(r.priv).toBe(1);
    const leaves = guestTable(vm).filter((m) => m.size === 4096);
    // The lecture's mapping: VA page 1 → guest page RAM+0xa2, VA page 2 → RAM+0xa3.
    expect(leaves.map((m) => [m.from, m.toIndex])).toEqual(expect.arrayContaining([[1, 0xa2], [2, 0xa3]]));
    for (const m of leaves) {
      const gva = m.from * 4096;
      const gpa = m.to * 4096;
      const hpa = vm.pmap.lookup(gpa);
      expect(vm.pmap.walk(gpa).pa).toBe(hpa);
      const loc = s.locate('p', gva + 0x10, 'guest-virtual');
      expect(loc.addresses).toEqual({ 'guest-virtual': gva + 0x10, 'guest-physical': gpa + 0x10, 'host-physical': hpa + 0x10 });
      expect(s.locate('p', hpa + 0x10, 'host-physical').addresses['guest-physical']).toBe(gpa + 0x10);
      const host = s.vmm.host.ram.subarray(hpa - s.vmm.host.ramBase, hpa - s.vmm.host.ramBase + 4096);
      for (const [addr, space] of [[gva, 'guest-virtual'], [gpa, 'guest-physical'], [hpa, 'host-physical']] as const) {
        const b = s.readMemory('p', addr, 4096, space);
        expect(b.valid.every((v) => v === 1)).toBe(true);
        expect(b.bytes).toEqual(host);
      }
    }
    // The kernel's own code through its identity megapage.
    const code = s.readMemory('p', 0x80000000, 64, 'guest-virtual');
    expect(code.bytes).toEqual(s.readMemory('p', 0x80000000, 64, 'guest-physical').bytes);
  });

  it('scattered placement is visible: consecutive guest pages are not consecutive frames', () => {
    const a = s.locate('p', 0x80000000, 'guest-physical').addresses['host-physical']!;
    const b = s.locate('p', 0x80001000, 'guest-physical').addresses['host-physical']!;
    expect(b - a).not.toBe(4096);
  });

  it('a VA no PTE maps is a page fault, device space is not RAM', () => {
    expect(s.locate('p', 0x3000, 'guest-virtual').note).toMatch(/page fault \(cause 13\)/);
    expect(s.readMemory('p', 0x3000, 16, 'guest-virtual').valid.every((v) => v === 0)).toBe(true);
    expect(s.readMemory('p', 0x10000000, 16, 'guest-physical').valid.every((v) => v === 0)).toBe(true);
    expect(s.locate('p', 0x10000000, 'guest-physical').note).toMatch(/not guest RAM/);
  });

  it('host-physical reads and writes outside the VM\'s frames are refused', () => {
    const paging = s.vmm.vms.find((v) => v.name === 'paging')!;
    const hello = s.vmm.vms.find((v) => v.name === 'hello')!;
    const neighbour = hello.pmap.lookup(0x80000000);
    const before = s.readMemory('h', neighbour, 256, 'host-physical');
    expect(before.valid.every((v) => v === 1)).toBe(true);
    const through = s.readMemory('p', neighbour, 256, 'host-physical');
    expect(through.valid.every((v) => v === 0)).toBe(true);
    expect(through.bytes.every((v) => v === 0)).toBe(true);
    // The VMM's own tables (the pmap root) and the shadows are not the guest's either.
    expect(s.readMemory('p', paging.pmap.rootAddress, 64, 'host-physical').valid.every((v) => v === 0)).toBe(true);
    expect(s.locate('p', neighbour, 'host-physical').note).toMatch(/not a host frame of this VM/);
    s.pause('h');
    expect(s.writeMemory('p', neighbour, new Uint8Array([0xee]), 'host-physical')).toEqual({ written: 0 });
    expect(s.readMemory('h', neighbour, 256, 'host-physical').bytes).toEqual(before.bytes);
  });

  it('a byte written in each space lands in the frame the pmap names', () => {
    const vm = s.vmm.vms.find((v) => v.name === 'paging')!;
    const gpa = 0x800a2000 + 0x40;
    const hpa = vm.pmap.lookup(gpa);
    const at = (): number => s.vmm.host.ram[hpa - s.vmm.host.ramBase];
    expect(s.writeMemory('p', 0x1040, new Uint8Array([0x11]), 'guest-virtual')).toEqual({ written: 1 });
    expect(at()).toBe(0x11);
    s.writeMemory('p', gpa, new Uint8Array([0x22]), 'guest-physical');
    expect(at()).toBe(0x22);
    s.writeMemory('p', hpa, new Uint8Array([0x33]), 'host-physical');
    expect(at()).toBe(0x33);
    expect(() => s.readMemory('p', 0, 4, 'physical')).toThrow(/guest-virtual, guest-physical or host-physical/);
  });

  it('a running VM\'s memory cannot be edited', () => {
    s.run('h');
    expect(() => s.writeMemory('h', 0x80000000, new Uint8Array([0]), 'guest-physical')).toThrow(/pause it first/);
    s.pause('h');
  });
});

describe('per-VM control', () => {
  it('pausing one VM stops its clock while its neighbour runs on', () => {
    const { s, pump, status } = session();
    // Both run for ever, sleeping on their timers in between.
    s.create('a', 'a', 'trap', 16 * MiB, 'contiguous', SLEEPER, undefined);
    s.create('b', 'b', 'emulate', 16 * MiB, 'scattered', SLEEPER, undefined);
    s.run('a');
    s.run('b');
    pump(3);
    s.pause('a');
    const a0 = s.status('a').instret;
    const b0 = s.status('b').instret;
    pump(3);
    expect(s.status('a').instret).toBe(a0);
    expect(s.status('a').vmState).toBe('paused');
    expect(s.status('b').instret).toBeGreaterThan(b0);
    expect(status.get('a')!.state).toBe('paused');
    // Enough steps to cover a sleep in wfi (10,000 ticks of 10 steps).
    const stepped = s.step('a', 200_000);
    expect(stepped.instret).toBeGreaterThan(a0);
    expect(stepped.vmState).toBe('paused');
    expect(() => s.step('b', 1)).toThrow(/pause it first/);
  });

  it('removing a VM gives its frames back', () => {
    const { s } = session();
    const free = s.vmm.frames.available;
    s.create('x', 'x', 'trap', 4 * MiB, 'scattered', lab('hello'), undefined);
    s.run('x');
    s.destroy('x');
    expect(s.vmm.frames.available).toBe(free);
    expect(s.vmm.vms).toEqual([]);
  });
});

describe('reset', () => {
  it.each(['trap', 'emulate'] as const)('gives a %s-mode VM fresh counters: a second run counts what the first did', (mode) => {
    const { s, pump, out } = session();
    s.create('t', 'traps', mode, 16 * MiB, 'contiguous', lab('traps'), undefined);
    const runToHalt = (): ReturnType<VmmSession['stats']> => {
      s.run('t');
      for (let i = 0; i < 1000 && s.status('t').vmState !== 'halted'; i++) pump();
      expect(s.status('t').vmState).toBe('halted');
      return s.stats('t');
    };
    const first = runToHalt();
    // The traps lab's eight system calls, reflected by the VMM in trap mode (emulate interprets them).
    if (mode === 'trap') expect(first.reflected.exception8).toBe(8);
    expect(first.instructions).toBeGreaterThan(0);
    s.reset('t');
    const fresh = s.stats('t');
    expect(fresh.instructions).toBe(0);
    expect(fresh.exitCount).toBe(0);
    expect(fresh.reflected).toEqual({});
    expect(fresh.tlb).toEqual({ hits: 0, misses: 0, walkReferences: 0 });
    expect(fresh.deviceAccesses).toBe(0);
    expect(s.status('t').instret).toBe(0);
    out.clear();
    const second = runToHalt();
    const { wallMs: _a, modeledCycles: _b, cycleBreakdown: _c, ...counts1 } = first;
    const { wallMs: _d, modeledCycles: _e, cycleBreakdown: _f, ...counts2 } = second;
    expect(counts2).toEqual(counts1);
    expect(second.modeledCycles).toBe(first.modeledCycles);
    expect(out.get('t')).toContain('ecall #8');
  });
});

describe('explicit placement', () => {
  const LECTURE: [number, number][] = [[0xa1, 0xc0], [0xa2, 0xc1], [0xa3, 0xc4]];

  it('finds the lecture\'s frames free whatever ordinary VMs were created first', () => {
    const { s } = session();
    s.create('h', 'hello', 'emulate', 16 * MiB, 'contiguous', lab('hello'), undefined);
    s.create('t', 'traps', 'trap', 16 * MiB, 'scattered', lab('traps'), undefined);
    s.run('t');
    s.create('p', 'paging', 'trap', 16 * MiB, { explicit: LECTURE }, lab('paging'), undefined);
    const paging = s.vmm.vms.find((v) => v.name === 'paging')!;
    for (const [page, frame] of LECTURE) expect(paging.pmap.lookup(0x80000000 + page * 4096)).toBe(s.vmm.frames.address(frame));
  });

  it('names the VM holding a frame that is asked for again', () => {
    const { s } = session();
    s.create('a', 'first', 'trap', 4 * MiB, { explicit: [[0, 0xc0]] }, lab('hello'), undefined);
    expect(() => s.create('b', 'second', 'trap', 4 * MiB, { explicit: [[1, 0xc0]] }, lab('hello'), undefined))
      .toThrow('placement: host frame 0xc0 is already in use by VM first: remove that VM or choose another frame');
    expect(s.vmm.vms.map((v) => v.name)).toEqual(['first']);
  });
});
