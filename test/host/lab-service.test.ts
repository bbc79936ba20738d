// The lab service end to end with real workers: validation, files, assembling, and a machine
// driven through run, input, pause, step, step over, run-to, breakpoints and memory edits.
import { cpSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LabService } from '../../src/host/lab-service';
import type { LabEvents, MachineStatus } from '../../src/shared/lab-api';
import { requireTool } from '../support/tools';
import { recordEvents, until as waitUntil } from '../support/lab';

let root: string;
let lab: LabService;
const consoleText = new Map<string, string>();
const statuses: MachineStatus[] = [];

beforeAll(async () => {
  requireTool('riscv64-unknown-elf-as', 'binutils-riscv64-unknown-elf');
  root = mkdtempSync(join(tmpdir(), 'vmlab-lab-'));
  cpSync(join(__dirname, '../../labs/hello'), join(root, 'hello'), { recursive: true });
  lab = await LabService.create({ workspace: root });
  recordEvents(lab, { consoleText, statuses });
});

afterAll(async () => {
  await lab.dispose();
});

const until = (what: string, cond: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> => waitUntil(what, cond, ms);

describe('request validation', () => {
  it.each([
    ['fs.read', {}],
    ['fs.read', { path: 42 }],
    ['fs.read', { path: 'hello/hello.S', extra: 1 }],
    ['fs.write', { path: 'hello/hello.S' }],
    ['fs.create', { path: 'x.S', kind: 'socket' }],
    ['vm.readMemory', { id: 'm1', address: -1, length: 4, space: 'physical' }],
    ['vm.readMemory', { id: 'm1', address: 0, length: 1 << 24, space: 'physical' }],
    ['vm.readMemory', { id: 'm1', address: 2 ** 32, length: 4, space: 'physical' }],
    ['vm.input', { id: 'm1', data: 'text, not bytes' }],
    ['vm.setBreakpoints', { id: 'm1', addresses: [1.5] }],
    ['vm.create', { kernel: 'hello/hello.S', memSize: 12345 }],
    ['vm.create', { kernel: 'hello/hello.S', cpu: { turbo: true } }],
    ['no.such.method', {}],
    ['fs.list', null],
    ['__proto__', {}],
  ])('%s %j is refused with a bad-request error', async (method, params) => {
    const before = readdirSync(root, { recursive: true }).sort();
    await expect(lab.call(method, params)).rejects.toMatchObject({ code: 'bad-request' });
    expect(readdirSync(root, { recursive: true }).sort()).toEqual(before);
    expect(await lab.call('vm.list', {})).toEqual([]);
  });

  it('names the offending field', async () => {
    await expect(lab.call('fs.write', { path: 'a.S', text: 3 })).rejects.toThrow(/fs\.write: text:/);
  });

  it('refuses paths outside the workspace through the API', async () => {
    await expect(lab.call('fs.read', { path: '../../etc/passwd' })).rejects.toMatchObject({ code: 'outside-workspace' });
    await expect(lab.call('vm.create', { kernel: '/etc/passwd' })).rejects.toMatchObject({ code: 'outside-workspace' });
  });
});

describe('menu commands of the desktop app', () => {
  it('sends Save and Save As to the renderer, Save As only for a path inside the workspace', async () => {
    const seen: LabEvents['app.command'][] = [];
    const off = lab.subscribe((event, payload) => {
      if (event === 'app.command') seen.push(payload as LabEvents['app.command']);
    });
    lab.requestSave();
    await lab.requestSaveAs(join(root, 'hello', 'copy.S'));
    await expect(lab.requestSaveAs(join(root, '..', 'elsewhere.S'))).rejects.toMatchObject({ code: 'outside-workspace' });
    await expect(lab.requestSaveAs('/etc/passwd')).rejects.toMatchObject({ code: 'outside-workspace' });
    off();
    expect(seen).toEqual([{ command: 'save' }, { command: 'saveAs', path: 'hello/copy.S' }]);
  });
});

describe('files and assembling', () => {
  it('lists, writes and reads back', async () => {
    const list = (await lab.call('fs.list', {})) as { path: string }[];
    expect(list.map((e) => e.path)).toContain('hello/hello.S');
    await lab.call('fs.write', { path: 'scratch.S', text: 'nop\n' });
    expect(await lab.call('fs.read', { path: 'scratch.S' })).toEqual({ text: 'nop\n' });
  });

  it('announces a file that a write creates, and not a rewrite', async () => {
    let changes = 0;
    const off = lab.subscribe((event) => {
      if (event === 'fs.changed') changes++;
    });
    await lab.call('fs.write', { path: 'fresh.S', text: 'nop\n' });
    expect(changes).toBe(1);
    await lab.call('fs.write', { path: 'fresh.S', text: 'nop\nnop\n' });
    expect(changes).toBe(1);
    off();
  });

  it('reports a syntax error at its line without writing anything', async () => {
    const src = readFileSync(join(root, 'hello/hello.S'), 'utf8').replace('la      sp, stack_top', 'lax     sp, stack_top');
    const r = (await lab.call('asm.check', { path: 'hello/hello.S', text: src })) as { ok: boolean; diagnostics: { line: number; message: string; severity: string }[] };
    expect(r.ok).toBe(false);
    expect(r.diagnostics[0]).toMatchObject({ line: 16, severity: 'error' });
    expect(r.diagnostics[0].message).toMatch(/lax/);
    expect(readdirSync(join(root, 'hello'))).not.toContain('hello.elf');
  });

  it('builds an ELF with symbols and a line map', async () => {
    const r = (await lab.call('asm.build', { path: 'hello/hello.S' })) as { ok: boolean; elfPath: string; symbols: { name: string; address: number }[]; lineMap: { address: number; line: number }[] };
    expect(r.ok).toBe(true);
    expect(r.elfPath).toBe('hello/hello.elf');
    expect(r.symbols).toContainEqual({ name: '_start', address: 0x80000000 });
    expect(r.lineMap[0]).toMatchObject({ address: 0x80000000, line: 16 });
    expect(readFileSync(join(root, 'hello/hello.elf')).subarray(0, 4)).toEqual(Buffer.from([0x7f, 0x45, 0x4c, 0x46]));
  });

  it('gives the instruction set from the engine tables', async () => {
    const isa = (await lab.call('isa.info', {})) as { instructions: { name: string }[]; csrs: { name: string; num: number }[] };
    expect(isa.instructions.map((i) => i.name)).toEqual(expect.arrayContaining(['addi', 'lw', 'csrrw', 'c.addi', 'wfi']));
    expect(isa.csrs).toContainEqual({ name: 'mstatus', num: 0x300 });
  });
});

describe('a machine in a worker', () => {
  let id = '';
  let symbols: Map<string, number>;

  it('creates paused at the reset vector, runs and greets', async () => {
    const built = (await lab.call('asm.build', { path: 'hello/hello.S' })) as { symbols: { name: string; address: number }[] };
    symbols = new Map(built.symbols.map((s) => [s.name, s.address]));
    const s = (await lab.call('vm.create', { kernel: 'hello/hello.S' })) as MachineStatus;
    id = s.id;
    expect(s).toMatchObject({ state: 'paused', pc: 0x1000, instret: 0 });
    await lab.call('vm.run', { id });
    await until('the greeting', () => (consoleText.get(id) ?? '').includes('Hello from vmlab!'));
    await until('idle in wfi', () => statuses.some((x) => x.id === id && x.state === 'idle'));
  });

  it('echoes console input', async () => {
    await lab.call('vm.input', { id, data: new TextEncoder().encode('hi there\r') });
    await until('the echo', () => (consoleText.get(id) ?? '').endsWith('hi there\r\n'));
  });

  it('pauses, shows registers and steps one instruction', async () => {
    const p = (await lab.call('vm.pause', { id })) as MachineStatus;
    expect(p.state).toBe('paused');
    const regs = (await lab.call('vm.registers', { id })) as { pc: number; x: number[]; csrs: { name: string; value: number }[] };
    expect(regs.x[2]).toBe(symbols.get('stack_top'));
    expect(regs.csrs.find((c) => c.name === 'mie')?.value).toBe(1 << 11);
    // Asleep in WFI, a step cannot retire anything: it says so.
    const asleep = (await lab.call('vm.step', { id })) as MachineStatus;
    expect(asleep).toMatchObject({ state: 'paused', pc: regs.pc, reason: 'waiting for input (wfi)' });
    await lab.call('vm.reset', { id });
    const s = (await lab.call('vm.step', { id, count: 2 })) as MachineStatus;
    expect(s).toMatchObject({ state: 'paused', pc: 0x1008, instret: 2, reason: 'step' });
  });

  it('steps over a call and runs to an address', async () => {
    await lab.call('vm.reset', { id });
    // Run to the jalr of `call puts` (auipc ra; jalr ra) in _start, then step over it: the
    // greeting appears and pc is after the call.
    const start = symbols.get('_start')!;
    let s = (await lab.call('vm.runTo', { id, address: start + 20 })) as MachineStatus;
    await until('reaching the call', async () => ((s = (await lab.call('vm.list', {}) as MachineStatus[])[0]).state === 'paused'));
    expect(s).toMatchObject({ pc: start + 20, reason: 'reached' });
    const before = (consoleText.get(id) ?? '').length;
    await lab.call('vm.stepOver', { id });
    await until('return from puts', async () => ((s = (await lab.call('vm.list', {}) as MachineStatus[])[0]).state === 'paused'));
    expect(s.pc).toBe(start + 24);
    expect((consoleText.get(id) ?? '').slice(before)).toContain('Hello from vmlab!');
  });

  it('stops at a breakpoint', async () => {
    const putc = symbols.get('putc')!;
    await lab.call('vm.reset', { id });
    await lab.call('vm.setBreakpoints', { id, addresses: [putc] });
    await lab.call('vm.run', { id });
    await until('the breakpoint', () => statuses.some((x) => x.id === id && x.reason === 'breakpoint' && x.pc === putc));
    await lab.call('vm.setBreakpoints', { id, addresses: [] });
  });

  it('reads and edits memory while paused, physical and virtual', async () => {
    const greeting = symbols.get('greeting')!;
    const m = (await lab.call('vm.readMemory', { id, address: greeting, length: 5, space: 'physical' })) as { bytes: Uint8Array; valid: Uint8Array };
    expect(new TextDecoder().decode(m.bytes)).toBe('Hello');
    expect([...m.valid]).toEqual([1, 1, 1, 1, 1]);
    const hole = (await lab.call('vm.readMemory', { id, address: 0x40000000, length: 4, space: 'physical' })) as { valid: Uint8Array };
    expect([...hole.valid]).toEqual([0, 0, 0, 0]);
    const w = await lab.call('vm.writeMemory', { id, address: greeting, bytes: new TextEncoder().encode('J'), space: 'virtual' });
    expect(w).toEqual({ written: 1 });
    const v = (await lab.call('vm.readMemory', { id, address: greeting, length: 5, space: 'virtual' })) as { bytes: Uint8Array };
    expect(new TextDecoder().decode(v.bytes)).toBe('Jello');
    const t = await lab.call('vm.translate', { id, address: greeting });
    expect(t).toMatchObject({ paged: false, pa: greeting, fault: 0 });
  });

  it('disassembles from an address as objdump does', async () => {
    const start = symbols.get('_start')!;
    const lines = (await lab.call('vm.disassemble', { id, address: start, count: 3 })) as { address: number; hex: string; text: string }[];
    const hi = ((symbols.get('stack_top')! - start + 0x800) >>> 12).toString(16);
    expect(lines[0]).toMatchObject({ address: start, text: `auipc sp,0x${hi}` });
    expect(lines[0].hex).toMatch(/^[0-9a-f]{8}$/);
    expect(lines[1].address).toBe(start + 4);
    // GNU objdump prints this addi as `add`, with the address it completes as a comment.
    expect(lines[1].text).toBe(`add sp,sp,${(symbols.get('stack_top')! - start) & 0xfff} # ${symbols.get('stack_top')!.toString(16)}`);
    const hole = (await lab.call('vm.disassemble', { id, address: 0x40000000, count: 2 })) as { text: string }[];
    expect(hole.map((l) => l.text)).toEqual(['??', '??']);
  });

  it('refuses memory edits while running', async () => {
    await lab.call('vm.run', { id });
    await expect(lab.call('vm.writeMemory', { id, address: 0x80000000, bytes: new Uint8Array([0]), space: 'physical' })).rejects.toMatchObject({ code: 'bad-state' });
    await lab.call('vm.pause', { id });
  });

  it('destroys the machine', async () => {
    await lab.call('vm.destroy', { id });
    expect(await lab.call('vm.list', {})).toEqual([]);
    await expect(lab.call('vm.registers', { id })).rejects.toMatchObject({ code: 'not-found' });
  });

  it('refuses a kernel that does not assemble, naming the line', async () => {
    await lab.call('fs.write', { path: 'bad.S', text: '_start:\n  bogus a0\n' });
    await expect(lab.call('vm.create', { kernel: 'bad.S' })).rejects.toThrow(/bad\.S does not assemble: line 2/);
    await lab.call('fs.write', { path: 'junk.elf', text: 'not an elf at all, but long enough to look like one maybe' });
    expect(await lab.call('vm.list', {})).toEqual([]);
  });
});
