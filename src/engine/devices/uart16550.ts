// ns16550a UART as QEMU's virt machine maps it (hw/char/serial.c, serial_mm with regshift 0): eight
// byte-wide registers at offsets 0..7 of a 256-byte window. Register semantics follow the TI/National
// PC16550D datasheet; where QEMU differs from the datasheet (THRE re-arm on an IER write, CTI masked by
// IER.RDI) QEMU's behaviour is kept, so xv6's and Linux's 8250 drivers see the same device on both.
//
// Transmission is instantaneous: a THR write hands the byte to `out` at once, so LSR reads 0x60
// (THRE|TEMT) whenever the receiver is empty. Reception is fed from an unbounded host-side queue:
// bytes move into the receiver (RBR, or the 16-byte FIFO) when the guest looks at the receiver
// (reads of RBR, LSR or IIR) or, while IER.RDI is set, as soon as they are queued. So input typed before
// the guest initialises the UART is not thrown away by its FIFO reset, and the receiver never overruns.
// The FIFO character timeout (IIR = 0xC) is modelled as immediate: it is pending whenever the FIFO holds
// fewer bytes than the trigger level (with IER.RDI set, more host input would already have filled it).

import type { Device } from '../machine/bus';
import type { IrqLine } from './irq';

const LCR_DLAB = 0x80;

const IER_RDI = 0x01;
const IER_THRI = 0x02;
const IER_RLSI = 0x04;
const IER_MSI = 0x08;

const IIR_NO_INT = 0x01;
const IIR_MSI = 0x00;
const IIR_THRI = 0x02;
const IIR_RDI = 0x04;
const IIR_RLSI = 0x06;
const IIR_CTI = 0x0c;
const IIR_ID_MASK = 0x0e;
const IIR_FIFO_ENABLED = 0xc0;

const FCR_FE = 0x01;
const FCR_RFR = 0x02;
const FCR_XFR = 0x04;
/** FCR bits that stick (QEMU's serial_write_fcr keeps val & 0xC9). */
const FCR_STICKY = 0xc9;

const LSR_DR = 0x01;
const LSR_OE = 0x02;
const LSR_BI = 0x10;
const LSR_THRE = 0x20;
const LSR_TEMT = 0x40;
/** LSR bits that raise the receiver-line-status interrupt (OE, PE, FE, BI). */
const LSR_INT_ANY = 0x1e;

const MCR_OUT2 = 0x08;
const MCR_LOOP = 0x10;

/** DCD|DSR|CTS: the modem lines QEMU reports for a stdio backend. */
const MSR_IDLE = 0xb0;
const MSR_ANY_DELTA = 0x0f;

/** Receive FIFO depth of the 16550A. */
const FIFO_SIZE = 16;
/** Receive trigger levels selected by FCR bits 7:6 (datasheet table "FCR"). */
const TRIGGER_LEVELS = [1, 4, 8, 14] as const;
/** QEMU's reset divisor: 9600 baud from a 1.8432 MHz clock. */
const RESET_DIVISOR = 0x0c;
/** The registers occupy the first 8 bytes of the mapped window. */
const REGISTER_SPAN = 8;

/** A ns16550a UART: 8-bit registers, 16-byte receive FIFO, interrupts on one level-triggered line. */
export class Uart16550 implements Device {
  readonly name = 'uart16550';
  /** Interrupts go through its line; output through `out`, which ends the run itself when it must. */
  get quiet(): boolean {
    return true;
  }
  private ier = 0;
  private lcr = 0;
  private mcr = MCR_OUT2;
  /** Error bits of LSR (OE, BI); DR, THRE and TEMT are derived. */
  private lsrErrors = 0;
  private msr = MSR_IDLE;
  private scr = 0;
  private fcr = 0;
  private divisor = RESET_DIVISOR;
  /** The interrupt identification currently shown in IIR bits 3:0. */
  private iirId = IIR_NO_INT;
  /** THR-empty interrupt latch: set when THR empties, cleared by an IIR read that shows it or a THR write. */
  private thrPending = false;
  /** Non-FIFO receiver: the last byte received and whether it is unread (LSR.DR). */
  private rbr = 0;
  private rbrFull = false;
  /** Receive FIFO ring. Invariant: 0 <= rxCount <= FIFO_SIZE. */
  private readonly rx = new Uint8Array(FIFO_SIZE);
  private rxHead = 0;
  private rxCount = 0;
  /** Host-side input queue (ring, grows by doubling). Invariant: hostCount <= host.length. */
  private host = new Uint8Array(256);
  private hostHead = 0;
  private hostCount = 0;

  constructor(private readonly irq: IrqLine, private readonly out: (byte: number) => void) {}

  /** Queues host input for the receiver (the guest reads it through RBR). */
  pushInput(bytes: Uint8Array | number[]): void {
    const n = bytes.length;
    if (n === 0) return;
    if (this.hostCount + n > this.host.length) {
      let size = this.host.length * 2;
      while (size < this.hostCount + n) size *= 2;
      const grown = new Uint8Array(size);
      for (let i = 0; i < this.hostCount; i++) grown[i] = this.host[(this.hostHead + i) % this.host.length];
      this.host = grown;
      this.hostHead = 0;
    }
    for (let i = 0; i < n; i++) this.host[(this.hostHead + this.hostCount + i) % this.host.length] = bytes[i] & 0xff;
    this.hostCount += n;
    if (this.ier & IER_RDI) {
      this.receive();
      this.updateIrq();
    }
  }

  /** True while host input is waiting that the guest has not read yet (queued or in the receiver). */
  get inputPending(): boolean {
    return this.hostCount > 0 || this.dataReady();
  }

  read(offset: number, _size: number): number {
    if (offset >= REGISTER_SPAN) return 0;
    switch (offset) {
      case 0:
        if (this.lcr & LCR_DLAB) return this.divisor & 0xff;
        return this.readRbr();
      case 1:
        if (this.lcr & LCR_DLAB) return (this.divisor >>> 8) & 0xff;
        return this.ier;
      case 2: {
        // QEMU's IIR read drives the line only when it clears THRI; an extra raise here would pend the
        // PLIC source again (QEMU 7.2's PLIC pends on every raise, see plic.ts).
        if (this.receive()) this.updateIrq();
        const iir = this.iirId | (this.fcr & FCR_FE ? IIR_FIFO_ENABLED : 0);
        // Reading IIR while it shows THRI clears that interrupt (datasheet table "Interrupt control").
        if ((this.iirId & IIR_ID_MASK) === IIR_THRI) {
          this.thrPending = false;
          this.updateIrq();
        }
        return iir;
      }
      case 3:
        return this.lcr;
      case 4:
        return this.mcr;
      case 5: {
        this.receive();
        const lsr = this.lsr();
        // Reading LSR clears the overrun and break indications.
        if (this.lsrErrors & (LSR_OE | LSR_BI)) {
          this.lsrErrors &= ~(LSR_OE | LSR_BI);
          this.updateIrq();
        }
        return lsr;
      }
      case 6: {
        if (this.mcr & MCR_LOOP) {
          // Loopback: OUT2->DCD, OUT1->RI, RTS->CTS, DTR->DSR.
          return ((this.mcr & 0x0c) << 4) | ((this.mcr & 0x02) << 3) | ((this.mcr & 0x01) << 5);
        }
        const msr = this.msr;
        if (msr & MSR_ANY_DELTA) {
          this.msr &= 0xf0;
          this.updateIrq();
        }
        return msr;
      }
      default:
        return this.scr;
    }
  }

  write(offset: number, value: number, _size: number): void {
    if (offset >= REGISTER_SPAN) return;
    const v = value & 0xff;
    switch (offset) {
      case 0:
        if (this.lcr & LCR_DLAB) {
          this.divisor = (this.divisor & 0xff00) | v;
        } else {
          this.transmit(v);
        }
        return;
      case 1:
        if (this.lcr & LCR_DLAB) {
          this.divisor = (this.divisor & 0x00ff) | (v << 8);
          return;
        }
        this.writeIer(v);
        return;
      case 2:
        this.writeFcr(v);
        return;
      case 3:
        this.lcr = v;
        return;
      case 4:
        this.mcr = v & 0x1f;
        return;
      case 5:
      case 6:
        return;
      default:
        this.scr = v;
    }
  }

  /** Power-on state as QEMU's serial_reset; queued host input survives (it belongs to the host side). */
  reset(): void {
    this.ier = 0;
    this.lcr = 0;
    this.mcr = MCR_OUT2;
    this.lsrErrors = 0;
    this.msr = MSR_IDLE;
    this.scr = 0;
    this.fcr = 0;
    this.divisor = RESET_DIVISOR;
    this.iirId = IIR_NO_INT;
    this.thrPending = false;
    this.rbr = 0;
    this.rbrFull = false;
    this.rxHead = 0;
    this.rxCount = 0;
    this.irq.set(false);
  }

  private fifoEnabled(): boolean {
    return (this.fcr & FCR_FE) !== 0;
  }

  private dataReady(): boolean {
    return this.fifoEnabled() ? this.rxCount > 0 : this.rbrFull;
  }

  private lsr(): number {
    return LSR_THRE | LSR_TEMT | this.lsrErrors | (this.dataReady() ? LSR_DR : 0);
  }

  private readRbr(): number {
    this.receive();
    let byte: number;
    if (this.fifoEnabled()) {
      if (this.rxCount === 0) {
        byte = 0;
      } else {
        byte = this.rx[this.rxHead];
        this.rxHead = (this.rxHead + 1) % FIFO_SIZE;
        this.rxCount--;
      }
    } else {
      byte = this.rbr;
      this.rbrFull = false;
    }
    if (!this.dataReady()) this.lsrErrors &= ~LSR_BI;
    if (this.ier & IER_RDI) this.receive();
    this.updateIrq();
    return byte;
  }

  /** THR write: the byte leaves at once; THRE drops and rises again around it as in QEMU's serial_xmit. */
  private transmit(byte: number): void {
    this.thrPending = false;
    this.updateIrq();
    if (this.mcr & MCR_LOOP) {
      this.receiveByte(byte);
    } else {
      this.out(byte);
    }
    this.thrPending = true;
    this.updateIrq();
  }

  private writeIer(v: number): void {
    const ier = v & 0x0f;
    const changed = this.ier ^ ier;
    this.ier = ier;
    // QEMU: turning IER.THRI on while THR is empty raises THRI even if an IIR read had cleared it.
    if (changed & IER_THRI) this.thrPending = (ier & IER_THRI) !== 0;
    if (ier & IER_RDI) this.receive();
    if (changed) this.updateIrq();
  }

  private writeFcr(v: number): void {
    let val = v;
    // Changing the enable bit flushes both FIFOs (datasheet: FCR bit 0).
    if ((val ^ this.fcr) & FCR_FE) val |= FCR_RFR | FCR_XFR;
    if (val & FCR_RFR) {
      this.rxHead = 0;
      this.rxCount = 0;
      this.rbrFull = false;
      this.lsrErrors &= ~LSR_BI;
    }
    if (val & FCR_XFR) this.thrPending = true;
    this.fcr = val & FCR_STICKY;
    if (this.ier & IER_RDI) this.receive();
    this.updateIrq();
  }

  /** Moves host input into the receiver while it has room (never in loopback, as QEMU); true if it moved any. */
  private receive(): boolean {
    if (this.mcr & MCR_LOOP) return false;
    let moved = false;
    while (this.hostCount > 0) {
      if (this.fifoEnabled() ? this.rxCount === FIFO_SIZE : this.rbrFull) return moved;
      moved = true;
      const byte = this.host[this.hostHead];
      this.hostHead = (this.hostHead + 1) % this.host.length;
      this.hostCount--;
      this.receiveByte(byte);
    }
    return moved;
  }

  /** One byte arrives at the receiver; a full receiver sets OE and drops it (datasheet: LSR bit 1). */
  private receiveByte(byte: number): void {
    if (this.fifoEnabled()) {
      if (this.rxCount === FIFO_SIZE) {
        this.lsrErrors |= LSR_OE;
        return;
      }
      this.rx[(this.rxHead + this.rxCount) % FIFO_SIZE] = byte;
      this.rxCount++;
    } else {
      if (this.rbrFull) this.lsrErrors |= LSR_OE;
      this.rbr = byte;
      this.rbrFull = true;
    }
  }

  /** Recomputes IIR by the datasheet's priority order and drives the line (QEMU's serial_update_irq). */
  private updateIrq(): void {
    const ier = this.ier;
    const fifo = this.fifoEnabled();
    const level = TRIGGER_LEVELS[this.fcr >>> 6];
    let id = IIR_NO_INT;
    if (ier & IER_RLSI && this.lsrErrors & LSR_INT_ANY) {
      id = IIR_RLSI;
    } else if (ier & IER_RDI && fifo && this.rxCount > 0 && this.rxCount < level) {
      id = IIR_CTI;
    } else if (ier & IER_RDI && this.dataReady() && (!fifo || this.rxCount >= level)) {
      id = IIR_RDI;
    } else if (ier & IER_THRI && this.thrPending) {
      id = IIR_THRI;
    } else if (ier & IER_MSI && this.msr & MSR_ANY_DELTA) {
      id = IIR_MSI;
    }
    this.iirId = id;
    this.irq.set(id !== IIR_NO_INT);
  }
}
