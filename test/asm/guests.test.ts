// The machine tests' guest programs (test/guests) are built with vmlab's assembler; their GNU twins
// (as + ld with the same section placement) must hold the same bytes in every allocated section, and
// the same symbol addresses.

import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readElf, type ElfFile } from '../../src/engine/asm/index';
import { ASM_DIR, GUEST_DIR, buildAsm, buildAsmGnu, listGuests } from '../support/build';
import { sectionBytes } from './oracle';

const GUESTS = [...listGuests(ASM_DIR, '.S'), join(GUEST_DIR, 'fuzz', 'fuzz-runtime.S')];

function load(path: string): ElfFile {
  const elf = readElf(new Uint8Array(readFileSync(path)));
  if (!elf) throw new Error(`${path} is not an ELF file`);
  return elf;
}

/** e_entry of an ELF32 header. */
const entry = (elf: ElfFile): number => new DataView(elf.bytes.buffer, elf.bytes.byteOffset).getUint32(24, true);

describe('guest programs: vmlab assembler vs GNU as + ld', () => {
  it.each(GUESTS.map((p) => [basename(p), p]))('%s', async (_name, src) => {
    const ours = load(await buildAsm(src));
    const theirs = load(await buildAsmGnu(src));
    const a = sectionBytes(ours);
    const b = sectionBytes(theirs);
    expect([...a.keys()].sort()).toEqual([...b.keys()].sort());
    for (const [name, sec] of a) {
      expect(sec.addr, name).toBe(b.get(name)!.addr);
      expect(Buffer.from(sec.bytes).equals(Buffer.from(b.get(name)!.bytes)), `section ${name} bytes`).toBe(true);
    }
    const gnuSyms = new Map(theirs.symbols.filter((s) => s.name && !s.name.startsWith('$') && !s.name.startsWith('.L') && s.type !== 3 && s.type !== 4).map((s) => [s.name, s.value]));
    const ourSyms = ours.symbols.filter((s) => gnuSyms.has(s.name));
    expect(ourSyms.length).toBeGreaterThan(10);
    for (const s of ourSyms) expect(s.value, s.name).toBe(gnuSyms.get(s.name));
    expect(entry(ours)).toBe(entry(theirs));
    // QEMU 7.2's boot ROM with -bios none jumps to the start of RAM, whatever e_entry says.
    expect(entry(ours)).toBe(0x80000000);
  }, 60_000);
});
