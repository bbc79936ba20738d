// Interrupt lines (STYLE: devices raise interrupts through a line object, never touching the CPU).

/** A level-triggered interrupt line. */
export interface IrqLine {
  /** Drives the line high (true) or low (false). */
  set(level: boolean): void;
}

/** A line that goes nowhere (an unconnected device). */
export const NO_IRQ: IrqLine = { set() {} };

/** Source of machine time in mtime ticks (10 MHz virtual by default). */
export interface TimeSource {
  /** Current mtime value. */
  now(): number;
}
