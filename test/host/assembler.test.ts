// The assembler backends behind asm.check/asm.build: the engine's assembler agrees with GNU as
// and ld on the hello lab (symbols and line map), and .include stays inside the workspace.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EngineAssembler, GnuAssembler } from '../../src/host/assembler';
import { LabService } from '../../src/host/lab-service';
import type { AssembleResult } from '../../src/shared/lab-api';
import { requireTool } from '../support/tools';

const hello = readFileSync(join(__dirname, '../../labs/hello/hello.S'), 'utf8');

describe('engine assembler against GNU binutils', () => {
  it('gives the same symbols and line map for the hello lab', async () => {
    requireTool('riscv64-unknown-elf-as', 'binutils-riscv64-unknown-elf');
    const gnu = await new GnuAssembler().assemble(hello, { file: 'hello/hello.S' });
    const eng = await new EngineAssembler().assemble(hello, { file: 'hello/hello.S' });
    expect(eng.diagnostics).toEqual([]);
    expect(gnu.diagnostics).toEqual([]);
    const labels = (r: typeof gnu) => new Map(r.symbols.filter((s) => s.address >= 0x80000000).map((s) => [s.name, s.address]));
    // .bss is left out: GNU ld's default script starts the data segment on a new page.
    for (const name of ['_start', 'echo', 'got', 'ack', 'putc', 'puts', 'greeting']) {
      expect(labels(eng).get(name), name).toBe(labels(gnu).get(name));
    }
    // GNU's table has a row where each line starts; the engine's has one per instruction (every
    // instruction of a pseudo-instruction's expansion too). They must agree wherever GNU has a row.
    const engLine = new Map(eng.lineMap.map((e) => [e.address, e.line]));
    const gnuRows = gnu.lineMap.map((e) => [e.address, e.line]);
    expect(gnuRows.length).toBeGreaterThan(40);
    expect(gnuRows.map(([a]) => [a, engLine.get(a)])).toEqual(gnuRows);
  });

  it('reports an unknown mnemonic at its line and column, as GNU as does by line', async () => {
    const src = hello.replace('la      sp, stack_top', 'lax     sp, stack_top');
    const gnu = await new GnuAssembler().assemble(src, { file: 'hello.S' });
    const eng = await new EngineAssembler().assemble(src, { file: 'hello.S' });
    expect(eng.elf).toBeUndefined();
    expect(eng.diagnostics[0]).toMatchObject({ line: gnu.diagnostics[0].line, column: 9, severity: 'error' });
  });
});

describe('.include in the workspace', () => {
  let root: string;
  let lab: LabService;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'vmlab-include-'));
    lab = await LabService.create({ workspace: join(root, 'ws') });
    writeFileSync(join(root, 'secret.inc'), '.equ SECRET, 42\n');
    await lab.call('fs.create', { path: 'common', kind: 'dir' });
    await lab.call('fs.create', { path: 'lab1', kind: 'dir' });
    await lab.call('fs.write', { path: 'common/uart.inc', text: '.equ UART, 0x10000000\n' });
  });

  afterAll(() => lab.dispose());

  it('reads an include from a sibling folder', async () => {
    const r = (await lab.call('asm.check', { path: 'lab1/a.S', text: '.include "../common/uart.inc"\n_start: li t0, UART\n' })) as AssembleResult;
    expect(r.diagnostics).toEqual([]);
    expect(r.symbols).toContainEqual({ name: 'UART', address: 0x10000000 });
  });

  it('cannot include a file outside the workspace', async () => {
    for (const path of ['../../secret.inc', '../secret.inc', join(root, 'secret.inc')]) {
      const r = (await lab.call('asm.check', { path: 'lab1/a.S', text: `.include "${path}"\n_start: li t0, SECRET\n` })) as AssembleResult;
      expect(r.ok, path).toBe(false);
      expect(r.diagnostics[0].message, path).toMatch(/cannot find/);
    }
  });
});
