// SiFive test finisher: the exit status QEMU 7.2's virt machine gives each write, against vmlab's codes.
import { describe, expect, it } from 'vitest';
import { TestFinisher } from '../../src/engine/devices/test-finisher';
import { runQemuSource } from './mmio-probe';

/** A guest that performs one store to the finisher. */
function finisherGuest(store: 'sw' | 'sh', value: number): string {
  return `
  .text
  .globl _start
_start:
  li t0, 0x100000
  li t1, 0x${value.toString(16)}
  ${store} t1, 0(t0)
1: j 1b
`;
}

function vmlabOutcome(size: 2 | 4, value: number): { exits: number[]; resets: number } {
  const exits: number[] = [];
  let resets = 0;
  const finisher = new TestFinisher((code) => exits.push(code), () => resets++);
  finisher.write(0, value, size);
  return { exits, resets };
}

describe('test finisher against QEMU 7.2', () => {
  const cases: ['sw' | 'sh', number][] = [
    ['sw', 0x5555], ['sh', 0x5555], ['sw', 0x0001_3333], ['sw', 0x002a_3333], ['sw', 0x01ff_3333], ['sw', 0xffff_5555],
  ];
  for (const [store, value] of cases) {
    it(`${store} 0x${value.toString(16)} ends the run with QEMU's exit status`, async () => {
      const qemu = await runQemuSource(finisherGuest(store, value));
      expect(qemu.timedOut).toBe(false);
      const { exits } = vmlabOutcome(store === 'sw' ? 4 : 2, value);
      expect(exits.length).toBe(1);
      // A process exit status keeps the low 8 bits of the code, as the vmlab CLI must.
      expect(exits[0] & 0xff).toBe(qemu.exitCode);
    });
  }
});

describe('test finisher', () => {
  it('reports the full 16-bit fail code and asks for a reset on 0x7777', () => {
    expect(vmlabOutcome(4, 0x1234_3333)).toEqual({ exits: [0x1234], resets: 0 });
    expect(vmlabOutcome(4, 0x7777)).toEqual({ exits: [], resets: 1 });
  });

  it('ignores other values, other offsets and byte writes; reads 0', () => {
    const exits: number[] = [];
    const finisher = new TestFinisher((code) => exits.push(code), () => exits.push(-1));
    finisher.write(0, 0x4444, 4);
    finisher.write(4, 0x5555, 4);
    finisher.write(0, 0x55, 1);
    expect(exits).toEqual([]);
    expect(finisher.read()).toBe(0);
  });
});
