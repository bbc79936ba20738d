// Flattened device tree of the machine, in the layout of the Devicetree Specification v0.4 §5 (header,
// memory reservation block, structure block, strings block; big-endian, version 17). The tree mirrors
// what QEMU 7.2 builds for `-machine virt` on rv32 (hw/riscv/virt.c): the same node names, compatible
// strings, reg encodings (#address-cells = #size-cells = 2), interrupt wiring and phandle numbering,
// leaving out the devices vmlab does not model (fw-cfg, flash, PCIe, goldfish RTC, platform bus, PMU)
// and /chosen/rng-seed (runs are deterministic). One addition: each cpu interrupt controller carries
// #address-cells = <0>, which dtc asks of interrupt providers (QEMU's tree draws a warning there).

import { IRQ, MEMORY_MAP, TIMEBASE_HZ } from './memory-map';

/** What the generated tree describes. */
export interface FdtOptions {
  /** Physical base of RAM. */
  ramBase: number;
  /** RAM size in bytes. */
  ramSize: number;
  /** The riscv,isa string of every hart; default "rv32imac_zicsr_zifencei". */
  isa?: string;
  /** Number of harts; default 1. */
  hartCount?: number;
  /** Kernel command line for /chosen/bootargs (left out when undefined). */
  bootargs?: string;
  /** The initrd's place in RAM, for /chosen linux,initrd-start/end (one cell each, as QEMU 7.2 writes them). */
  initrd?: { start: number; end: number };
}

/** Default riscv,isa string: the RV32IMAC + Zicsr + Zifencei machine of docs/machine.md. */
export const DEFAULT_ISA = 'rv32imac_zicsr_zifencei';

const FDT_MAGIC = 0xd00dfeed;
const FDT_BEGIN_NODE = 1;
const FDT_END_NODE = 2;
const FDT_PROP = 3;
const FDT_END = 9;
const FDT_VERSION = 17;
const FDT_LAST_COMP_VERSION = 16;
const HEADER_SIZE = 40;
/** Size of the reservation block: just its terminating {0, 0} entry. */
const RESERVE_SIZE = 16;

/** QEMU virt's PLIC reg size in the tree: VIRT_PLIC_SIZE(VIRT_CPUS_MAX * 2) with VIRT_CPUS_MAX = 512. */
const PLIC_DT_SIZE = 0x600000;
/** QEMU virt's riscv,ndev (VIRT_IRQCHIP_NUM_SOURCES in 7.2). */
const PLIC_NDEV = 96;
/** UART input clock QEMU puts in the tree (3.6864 MHz). */
const UART_CLOCK_HZ = 0x384000;
/** Interrupt numbers of the hart-local controller (privileged spec §3.1.9). */
const IRQ_M_SOFT = 3;
const IRQ_M_TIMER = 7;
const IRQ_S_EXT = 9;
const IRQ_M_EXT = 11;
const FINISHER_PASS = 0x5555;
const FINISHER_RESET = 0x7777;
const TWO_32 = 0x1_0000_0000;

/** Writes the structure and strings blocks. */
class FdtBuilder {
  private readonly struct: number[] = [];
  private readonly strings: number[] = [];
  private readonly nameOffsets = new Map<string, number>();

  beginNode(name: string): void {
    this.u32(FDT_BEGIN_NODE);
    this.bytes(utf8(name, true));
  }

  endNode(): void {
    this.u32(FDT_END_NODE);
  }

  prop(name: string, value: readonly number[]): void {
    let off = this.nameOffsets.get(name);
    if (off === undefined) {
      off = this.strings.length;
      this.nameOffsets.set(name, off);
      for (const b of utf8(name, true)) this.strings.push(b);
    }
    this.u32(FDT_PROP);
    this.u32(value.length);
    this.u32(off);
    this.bytes(value);
  }

  cells(name: string, ...cells: number[]): void {
    const v: number[] = [];
    for (const c of cells) v.push((c >>> 24) & 0xff, (c >>> 16) & 0xff, (c >>> 8) & 0xff, c & 0xff);
    this.prop(name, v);
  }

  /** A string or a string list (each NUL-terminated). */
  str(name: string, ...values: string[]): void {
    const v: number[] = [];
    for (const s of values) v.push(...utf8(s, true));
    this.prop(name, v);
  }

  empty(name: string): void {
    this.prop(name, []);
  }

  finish(): Uint8Array {
    this.u32(FDT_END);
    const structOff = HEADER_SIZE + RESERVE_SIZE;
    const stringsOff = structOff + this.struct.length;
    const total = stringsOff + this.strings.length;
    const blob = new Uint8Array(total);
    const view = new DataView(blob.buffer);
    const header = [FDT_MAGIC, total, structOff, stringsOff, HEADER_SIZE, FDT_VERSION, FDT_LAST_COMP_VERSION, 0, this.strings.length, this.struct.length];
    header.forEach((v, i) => view.setUint32(4 * i, v >>> 0, false));
    blob.set(this.struct, structOff);
    blob.set(this.strings, stringsOff);
    return blob;
  }

  private u32(v: number): void {
    this.struct.push((v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
  }

  /** Appends bytes and pads the structure block to a 4-byte boundary (spec §5.4). */
  private bytes(b: readonly number[]): void {
    for (const x of b) this.struct.push(x);
    while (this.struct.length % 4 !== 0) this.struct.push(0);
  }
}

/** UTF-8 bytes of `s`, NUL-terminated when `nul`. */
function utf8(s: string, nul: boolean): number[] {
  const out: number[] = [];
  for (const ch of s) {
    const c = ch.codePointAt(0) ?? 0;
    if (c < 0x80) out.push(c);
    else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 0x3f));
    else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f));
    else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 0x3f), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f));
  }
  if (nul) out.push(0);
  return out;
}

/** reg cells for #address-cells = #size-cells = 2. */
function reg64(base: number, size: number): number[] {
  return [Math.floor(base / TWO_32), base >>> 0, Math.floor(size / TWO_32), size >>> 0];
}

/** Generates the device tree blob describing the machine (QEMU 7.2 virt layout). */
export function generateFdt(options: FdtOptions): Uint8Array {
  const harts = options.hartCount ?? 1;
  if (!Number.isInteger(harts) || harts < 1) throw new RangeError(`hart count must be a positive integer, got ${harts}`);
  const isa = options.isa ?? DEFAULT_ISA;
  // QEMU creates the cpus from the last to the first, each taking a phandle for itself and then one
  // for its interrupt controller; the PLIC and the test device come next.
  const cpuPhandle = (hart: number): number => 2 * (harts - 1 - hart) + 1;
  const intcPhandle = (hart: number): number => cpuPhandle(hart) + 1;
  const plicPhandle = 2 * harts + 1;
  const testPhandle = 2 * harts + 2;
  const hex = (n: number): string => n.toString(16);

  const b = new FdtBuilder();
  b.beginNode('');
  b.cells('#address-cells', 2);
  b.cells('#size-cells', 2);
  b.str('compatible', 'riscv-virtio');
  b.str('model', 'riscv-virtio,qemu');

  b.beginNode('chosen');
  if (options.initrd !== undefined) {
    b.cells('linux,initrd-end', options.initrd.end);
    b.cells('linux,initrd-start', options.initrd.start);
  }
  if (options.bootargs !== undefined) b.str('bootargs', options.bootargs);
  b.str('stdout-path', `/soc/serial@${hex(MEMORY_MAP.uart0.base)}`);
  b.endNode();

  for (const [name, value, compatible] of [['poweroff', FINISHER_PASS, 'syscon-poweroff'], ['reboot', FINISHER_RESET, 'syscon-reboot']] as const) {
    b.beginNode(name);
    b.cells('value', value);
    b.cells('offset', 0);
    b.cells('regmap', testPhandle);
    b.str('compatible', compatible);
    b.endNode();
  }

  b.beginNode(`memory@${hex(options.ramBase)}`);
  b.str('device_type', 'memory');
  b.cells('reg', ...reg64(options.ramBase, options.ramSize));
  b.endNode();

  b.beginNode('cpus');
  b.cells('#address-cells', 1);
  b.cells('#size-cells', 0);
  b.cells('timebase-frequency', TIMEBASE_HZ);
  for (let hart = 0; hart < harts; hart++) {
    b.beginNode(`cpu@${hex(hart)}`);
    b.cells('phandle', cpuPhandle(hart));
    b.str('device_type', 'cpu');
    b.cells('reg', hart);
    b.str('status', 'okay');
    b.str('compatible', 'riscv');
    b.str('riscv,isa', isa);
    b.str('mmu-type', 'riscv,sv32');
    b.beginNode('interrupt-controller');
    b.cells('#address-cells', 0);
    b.cells('#interrupt-cells', 1);
    b.empty('interrupt-controller');
    b.str('compatible', 'riscv,cpu-intc');
    b.cells('phandle', intcPhandle(hart));
    b.endNode();
    b.endNode();
  }
  b.beginNode('cpu-map');
  b.beginNode('cluster0');
  for (let hart = 0; hart < harts; hart++) {
    b.beginNode(`core${hart}`);
    b.cells('cpu', cpuPhandle(hart));
    b.endNode();
  }
  b.endNode();
  b.endNode();
  b.endNode();

  b.beginNode('soc');
  b.cells('#address-cells', 2);
  b.cells('#size-cells', 2);
  b.str('compatible', 'simple-bus');
  b.empty('ranges');

  b.beginNode(`serial@${hex(MEMORY_MAP.uart0.base)}`);
  b.cells('interrupts', IRQ.uart0);
  b.cells('interrupt-parent', plicPhandle);
  b.cells('clock-frequency', UART_CLOCK_HZ);
  b.cells('reg', ...reg64(MEMORY_MAP.uart0.base, MEMORY_MAP.uart0.size));
  b.str('compatible', 'ns16550a');
  b.endNode();

  b.beginNode(`test@${hex(MEMORY_MAP.testFinisher.base)}`);
  b.cells('phandle', testPhandle);
  b.cells('reg', ...reg64(MEMORY_MAP.testFinisher.base, MEMORY_MAP.testFinisher.size));
  b.str('compatible', 'sifive,test1', 'sifive,test0', 'syscon');
  b.endNode();

  for (let slot = MEMORY_MAP.virtio.count - 1; slot >= 0; slot--) {
    const base = MEMORY_MAP.virtio.base + slot * MEMORY_MAP.virtio.size;
    b.beginNode(`virtio_mmio@${hex(base)}`);
    b.cells('interrupts', IRQ.virtioBase + slot);
    b.cells('interrupt-parent', plicPhandle);
    b.cells('reg', ...reg64(base, MEMORY_MAP.virtio.size));
    b.str('compatible', 'virtio,mmio');
    b.endNode();
  }

  const plicTargets: number[] = [];
  const clintTargets: number[] = [];
  for (let hart = 0; hart < harts; hart++) {
    plicTargets.push(intcPhandle(hart), IRQ_M_EXT, intcPhandle(hart), IRQ_S_EXT);
    clintTargets.push(intcPhandle(hart), IRQ_M_SOFT, intcPhandle(hart), IRQ_M_TIMER);
  }
  b.beginNode(`plic@${hex(MEMORY_MAP.plic.base)}`);
  b.cells('phandle', plicPhandle);
  b.cells('riscv,ndev', PLIC_NDEV);
  b.cells('reg', ...reg64(MEMORY_MAP.plic.base, PLIC_DT_SIZE));
  b.cells('interrupts-extended', ...plicTargets);
  b.empty('interrupt-controller');
  b.str('compatible', 'sifive,plic-1.0.0', 'riscv,plic0');
  b.cells('#address-cells', 0);
  b.cells('#interrupt-cells', 1);
  b.endNode();

  b.beginNode(`clint@${hex(MEMORY_MAP.clint.base)}`);
  b.cells('interrupts-extended', ...clintTargets);
  b.cells('reg', ...reg64(MEMORY_MAP.clint.base, MEMORY_MAP.clint.size));
  b.str('compatible', 'sifive,clint0', 'riscv,clint0');
  b.endNode();

  b.endNode();
  b.endNode();
  return b.finish();
}
