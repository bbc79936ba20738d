// The target description gdb reads with qXfer:features:read, laid out as QEMU 7.2 serves it for an
// rv32 CPU: target.xml includes the core registers (org.gnu.gdb.riscv.cpu: x0..x31 as gdb names
// them, then pc), the CSRs (org.gnu.gdb.riscv.csr, generated from the hart's CSR table: every CSR
// the hart implements, at remote register number 33 + its CSR number) and the virtual `priv`
// register (org.gnu.gdb.riscv.virtual, after the CSRs). vmlab has no F/D, so there is no FPU feature
// and the CSRs follow pc directly (QEMU's default rv32 CPU puts its FPU registers between them).

import { CSRS } from '../../engine/cpu/csr';
import type { Hart } from '../../engine/cpu/hart';
import { Priv } from '../../engine/cpu/hart';

/** gdb's names for x0..x31 (the psABI names, fp for s0), as in gdb's riscv-32bit-cpu.xml. */
export const GDB_REG_NAMES = [
  'zero', 'ra', 'sp', 'gp', 'tp', 't0', 't1', 't2', 'fp', 's1', 'a0', 'a1', 'a2', 'a3', 'a4', 'a5',
  'a6', 'a7', 's2', 's3', 's4', 's5', 's6', 's7', 's8', 's9', 's10', 's11', 't3', 't4', 't5', 't6',
] as const;

/** Remote register number of pc. */
export const PC_REGNUM = 32;
/** Remote register number of the first CSR (csr 0); a CSR's number is this plus its CSR number. */
export const CSR_BASE_REGNUM = 33;
/** Remote register number of the virtual `priv` register. */
export const PRIV_REGNUM = CSR_BASE_REGNUM + 4096;

const HEADER = '<?xml version="1.0"?>\n<!DOCTYPE feature SYSTEM "gdb-target.dtd">\n';

/** The CSRs the hart implements, as gdb sees them (access checked at M-mode, as a debugger reads). */
export function debugCsrs(h: Hart): { name: string; num: number }[] {
  const probe = Object.create(h) as Hart;
  probe.priv = Priv.M;
  return CSRS.filter((def) => def.pred(probe, def.num) === 0).map((def) => ({ name: def.name, num: def.num }));
}

function cpuXml(): string {
  const regs = GDB_REG_NAMES.map((name, i) => {
    const type = name === 'ra' ? 'code_ptr' : name === 'sp' || name === 'gp' || name === 'tp' || name === 'fp' ? 'data_ptr' : 'int';
    return `  <reg name="${name}" bitsize="32" type="${type}"${i === 0 ? ' regnum="0"' : ''}/>`;
  });
  return `${HEADER}<feature name="org.gnu.gdb.riscv.cpu">\n${regs.join('\n')}\n  <reg name="pc" bitsize="32" type="code_ptr"/>\n</feature>\n`;
}

function csrXml(h: Hart): string {
  const regs = debugCsrs(h).map((c) => `  <reg name="${c.name}" bitsize="32" regnum="${CSR_BASE_REGNUM + c.num}"/>`);
  return `${HEADER}<feature name="org.gnu.gdb.riscv.csr">\n${regs.join('\n')}\n</feature>\n`;
}

function virtualXml(): string {
  return `${HEADER}<feature name="org.gnu.gdb.riscv.virtual">\n  <reg name="priv" bitsize="32" regnum="${PRIV_REGNUM}"/>\n</feature>\n`;
}

function targetXml(): string {
  return '<?xml version="1.0"?>\n<!DOCTYPE target SYSTEM "gdb-target.dtd">\n<target>\n  <architecture>riscv:rv32</architecture>\n' +
    '  <xi:include href="riscv-32bit-cpu.xml"/>\n  <xi:include href="riscv-csr.xml"/>\n  <xi:include href="riscv-32bit-virtual.xml"/>\n</target>\n';
}

/** The document gdb asks for by annex name, or undefined for an unknown annex. */
export function targetDocument(annex: string, h: Hart): string | undefined {
  switch (annex) {
    case 'target.xml': return targetXml();
    case 'riscv-32bit-cpu.xml': return cpuXml();
    case 'riscv-csr.xml': return csrXml(h);
    case 'riscv-32bit-virtual.xml': return virtualXml();
    default: return undefined;
  }
}
