// The gdb stub's protocol handling without a socket: framing and acknowledgements, replies to bad and
// random packets (an error or an empty reply, never a throw), Ctrl-C, breakpoints and memory writes,
// on a real machine and on a VM's virtual hart.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Machine, StopReason } from '../../src/engine/machine/machine';
import { readElf } from '../../src/engine/asm/index';
import { Vmm } from '../../src/engine/vmm/vmm';
import { machineDebugTarget, vmDebugTarget, type DebugTarget } from '../../src/host/gdb/debug-target';
import { checksum, frame, PacketReader } from '../../src/host/gdb/packets';
import { GdbStub } from '../../src/host/gdb/stub';
import { GUEST_DIR, buildGuest } from '../support/build';
import { rng as makeRng } from '../support/rng';

let kernel: Uint8Array;
const symbols = new Map<string, number>();

beforeAll(async () => {
  kernel = new Uint8Array(readFileSync(await buildGuest(join(GUEST_DIR, 'debug', 'gdb-target.S'))));
  const elf = readElf(kernel);
  if (elf === undefined) throw new Error("gdb-target.S did not assemble to an ELF");
  for (const s of elf.symbols) symbols.set(s.name, s.value);
}, 60_000);

/** A stub over `target` with everything it sends split back into packets. */
function harness(target: DebugTarget) {
  const sent: string[] = [];
  const stub = new GdbStub(target, { send: (t) => sent.push(t), waitForDebugger: true });
  stub.connect();
  const reader = new PacketReader();
  const replies = (): string[] => {
    const out: string[] = [];
    for (const item of reader.feed(Uint8Array.from(Buffer.from(sent.splice(0).join(''), 'latin1')))) {
      if (item.kind === 'packet') out.push(item.data);
      if (item.kind === 'bad-checksum') out.push('<bad checksum>');
    }
    return out;
  };
  const ask = (packet: string): string => {
    stub.receive(Uint8Array.from(Buffer.from(frame(packet), 'latin1')));
    const r = replies();
    expect(r.length, packet).toBeLessThanOrEqual(1);
    return r[0];
  };
  return { stub, sent, ask, replies };
}

function bareMachine(): Machine {
  const m = new Machine({ ramSize: 16 * 1024 * 1024 });
  m.loadKernel(kernel);
  return m;
}

const hex32 = (v: number): string => v.toString(16).padStart(8, '0');
const le32 = (text: string): number => Buffer.from(text, 'hex').readUInt32LE(0);

describe('gdb stub protocol', () => {
  it('acknowledges good packets and asks again for one with a bad checksum', () => {
    const { stub, sent } = harness(machineDebugTarget(bareMachine()));
    stub.receive(Uint8Array.from(Buffer.from('$?#00', 'latin1')));
    expect(sent.splice(0)).toEqual(['-']);
    stub.receive(Uint8Array.from(Buffer.from(`$?#${checksum('?')}`, 'latin1')));
    expect(sent.splice(0)).toEqual(['+', frame('T05thread:01;')]);
  });

  it('answers malformed packets with an error and unknown ones with an empty reply', () => {
    const { ask } = harness(machineDebugTarget(bareMachine()));
    expect(ask('m80000000')).toBe('E22');
    expect(ask('mzz,4')).toBe('E22');
    expect(ask('m80000000,100000')).toBe('E22');
    expect(ask('M80000000,4:123')).toBe('E22');
    expect(ask('Z0,xyz,4')).toBe('E22');
    expect(ask('Z2,80000000,0')).toBe('E22');
    expect(ask('P1=12')).toBe('E22');
    expect(ask('pzz')).toBe('E22');
    expect(ask('p9999')).toBe('E01');
    expect(ask('qXfer:features:read:nope.xml:0,100')).toBe('E00');
    expect(ask('m00000000,4')).toBe('E14');
    expect(ask('vFlashErase:0,4')).toBe('');
    expect(ask('!')).toBe('');
    expect(ask('?')).toBe('T05thread:01;');
  });

  it('survives random packets and bytes, and still answers afterwards', () => {
    const { stub, replies, ask } = harness(machineDebugTarget(bareMachine()));
    const next = makeRng(18);
    const rng = { below: (n: number): number => next() % n };
    const letters = 'gGpPmMXcsCSvZzDHTqQ?k';
    for (let i = 0; i < 3000; i++) {
      let body = letters[rng.below(letters.length)];
      const len = rng.below(40);
      for (let k = 0; k < len; k++) body += String.fromCharCode(rng.below(3) === 0 ? rng.below(256) : '0123456789abcdef,:;=#$}*'.charCodeAt(rng.below(24)));
      // Killing, stepping and continuing are covered elsewhere; here the target stays put.
      if (/^[kcsCSD]|^vCont|^vKill/.test(body)) continue;
      const bytes = rng.below(10) === 0 ? Uint8Array.from({ length: len }, () => rng.below(256)) : Uint8Array.from(Buffer.from(frame(body), 'latin1'));
      expect(() => stub.receive(bytes)).not.toThrow();
    }
    replies();
    // A random byte run may have left half a packet: gdb's next packet starts with '$' again.
    stub.receive(Uint8Array.from(Buffer.from('#00', 'latin1')));
    replies();
    expect(ask('?')).toMatch(/^T05/);
  });

  it('stops at a breakpoint, writes memory and registers, and stops again on Ctrl-C', async () => {
    const m = bareMachine();
    const { stub, ask, replies } = harness(machineDebugTarget(m));
    const afterLoop = symbols.get('after_loop')!;
    expect(ask(`Z0,${afterLoop.toString(16)},4`)).toBe('OK');
    expect(ask('c')).toBeUndefined();
    expect(await stub.run(1_000_000)).toBe(StopReason.BREAKPOINT);
    expect(replies()).toEqual(['T05swbreak:;thread:01;']);
    expect(m.hart.pcU).toBe(afterLoop);
    expect(le32(ask('p8'))).toBe(10);
    expect(ask(`P8=${Buffer.from(Uint32Array.of(0x1234).buffer).toString('hex')}`)).toBe('OK');
    expect(m.hart.x[8]).toBe(0x1234);
    const counter = symbols.get('counter')!;
    expect(ask(`M${counter.toString(16)},4:efbeadde`)).toBe('OK');
    expect(ask(`m${counter.toString(16)},4`)).toBe('efbeadde');
    // Ctrl-C: the next turn of the run loop stops with SIGINT.
    expect(ask(`z0,${afterLoop.toString(16)},4`)).toBe('OK');
    expect(ask('c')).toBeUndefined();
    stub.receive(Uint8Array.of(3));
    expect(await stub.run(1_000_000)).toBe(StopReason.STOPPED);
    expect(replies()).toEqual(['T02thread:01;']);
    // mstatus is register 33 + 0x300 in the CSR feature.
    expect(le32(ask(`p${(33 + 0x300).toString(16)}`))).toBe(m.hart.readMstatus());
    expect(hex32(m.hart.pcU)).toMatch(/^8/);
  });

  it('serves the target description with the CSRs at 33 + their numbers', () => {
    const { ask } = harness(machineDebugTarget(bareMachine()));
    const parts: string[] = [];
    for (const annex of ['target.xml', 'riscv-32bit-cpu.xml', 'riscv-csr.xml', 'riscv-32bit-virtual.xml']) {
      const r = ask(`qXfer:features:read:${annex}:0,3fff`);
      expect(r[0]).toBe('l');
      parts.push(r.slice(1));
    }
    expect(parts[0]).toContain('<architecture>riscv:rv32</architecture>');
    expect(parts[1]).toContain('<feature name="org.gnu.gdb.riscv.cpu">');
    expect(parts[2]).toContain(`<reg name="mstatus" bitsize="32" regnum="${33 + 0x300}"/>`);
    expect(parts[2]).toContain(`<reg name="satp" bitsize="32" regnum="${33 + 0x180}"/>`);
    expect(parts[3]).toContain(`<reg name="priv" bitsize="32" regnum="${33 + 4096}"/>`);
  });

  it('reads a trap-mode VM\'s registers from its virtual hart while the VM holds the physical hart', async () => {
    const vmm = new Vmm({ hostRamSize: 64 * 1024 * 1024 });
    const vm = vmm.createVm({ name: 'g', mode: 'trap', kernel, memSize: 16 * 1024 * 1024 });
    const { stub, ask, replies } = harness(vmDebugTarget(vmm, vm));
    const inS = symbols.get('in_s_paged')!;
    expect(ask(`Z1,${inS.toString(16)},4`)).toBe('OK');
    expect(ask('c')).toBeUndefined();
    expect(await stub.run(1_000_000)).toBe(StopReason.BREAKPOINT);
    expect(replies()).toEqual(['T05hwbreak:;thread:01;']);
    expect(le32(ask('p20'))).toBe(inS);
    // s3 holds what the guest loaded from its virtual address 0x40000000, which the stub reads too.
    expect(ask('m40000000,4')).toBe('0df0feca');
    expect(le32(ask('p13'))).toBe(0xcafef00d);
  });
});
