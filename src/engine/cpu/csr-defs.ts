// CSR numbers and status-register bits (privileged spec 20211203 ch. 2.2 table 2.2-2.6, ch. 3.1).

/** CSR numbers. */
export const enum Csr {
  SSTATUS = 0x100, SIE = 0x104, STVEC = 0x105, SCOUNTEREN = 0x106, SENVCFG = 0x10a,
  SSCRATCH = 0x140, SEPC = 0x141, SCAUSE = 0x142, STVAL = 0x143, SIP = 0x144, SATP = 0x180,
  MSTATUS = 0x300, MISA = 0x301, MEDELEG = 0x302, MIDELEG = 0x303, MIE = 0x304, MTVEC = 0x305,
  MCOUNTEREN = 0x306, MENVCFG = 0x30a, MSTATUSH = 0x310, MENVCFGH = 0x31a, MCOUNTINHIBIT = 0x320,
  MSCRATCH = 0x340, MEPC = 0x341, MCAUSE = 0x342, MTVAL = 0x343, MIP = 0x344,
  PMPCFG0 = 0x3a0, PMPADDR0 = 0x3b0,
  MCYCLE = 0xb00, MINSTRET = 0xb02, MCYCLEH = 0xb80, MINSTRETH = 0xb82,
  CYCLE = 0xc00, TIME = 0xc01, INSTRET = 0xc02, CYCLEH = 0xc80, TIMEH = 0xc81, INSTRETH = 0xc82,
  MVENDORID = 0xf11, MARCHID = 0xf12, MIMPID = 0xf13, MHARTID = 0xf14, MCONFIGPTR = 0xf15,
}

/** mstatus bits (RV32). */
export const enum Mstatus {
  SIE = 1 << 1,
  MIE = 1 << 3,
  SPIE = 1 << 5,
  UBE = 1 << 6,
  MPIE = 1 << 7,
  SPP = 1 << 8,
  MPP_SHIFT = 11,
  MPP = 3 << 11,
  FS = 3 << 13,
  MPRV = 1 << 17,
  SUM = 1 << 18,
  MXR = 1 << 19,
  TVM = 1 << 20,
  TW = 1 << 21,
  TSR = 1 << 22,
  SD = 1 << 31,
}

/** Bits of mstatus that software may write on this hart (no F, V or big-endian support). */
export const MSTATUS_WRITABLE =
  Mstatus.SIE | Mstatus.MIE | Mstatus.SPIE | Mstatus.MPIE | Mstatus.SPP | Mstatus.MPP |
  Mstatus.MPRV | Mstatus.SUM | Mstatus.MXR | Mstatus.TVM | Mstatus.TW | Mstatus.TSR;

/** The sstatus view of mstatus (§4.1.1). */
export const SSTATUS_MASK = (Mstatus.SIE | Mstatus.SPIE | Mstatus.UBE | Mstatus.SPP | Mstatus.FS |
  (3 << 9) | (3 << 15) | Mstatus.SUM | Mstatus.MXR | Mstatus.SD) >>> 0;

/** Interrupt numbers and mip/mie bits (§3.1.9). */
export const enum Irq {
  SSI = 1,
  MSI = 3,
  STI = 5,
  MTI = 7,
  SEI = 9,
  MEI = 11,
}

/** mip bits software can write in M-mode (SSIP, STIP, SEIP); the others come from devices. */
export const MIP_SW_WRITABLE = (1 << Irq.SSI) | (1 << Irq.STI) | (1 << Irq.SEI);
/** Interrupts that can be delegated to S-mode. */
export const MIDELEG_WRITABLE = (1 << Irq.SSI) | (1 << Irq.STI) | (1 << Irq.SEI);
/** All standard local interrupts this hart implements. */
export const MIE_WRITABLE = MIDELEG_WRITABLE | (1 << Irq.MSI) | (1 << Irq.MTI) | (1 << Irq.MEI);
/** Exceptions that can be delegated (all but ecall from M-mode and reserved causes). */
export const MEDELEG_WRITABLE = 0xb3ff;

/** Interrupts in the spec's priority order (§3.1.9: MEI, MSI, MTI, SEI, SSI, STI). */
export const IRQ_PRIORITY: readonly number[] = [Irq.MEI, Irq.MSI, Irq.MTI, Irq.SEI, Irq.SSI, Irq.STI];
