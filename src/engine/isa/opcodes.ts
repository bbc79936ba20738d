// Instruction ids. A const enum so that bundled builds inline the numbers and the interpreter's
// `switch (id)` becomes a jump table. The order carries no meaning; every id has exactly one
// entry in INSTRUCTIONS (table.ts), which a test checks.

/** Identifier of one instruction (or compressed instruction) of the table. */
export const enum Op {
  ILLEGAL = 0,
  // RV32I
  LUI, AUIPC, JAL, JALR,
  BEQ, BNE, BLT, BGE, BLTU, BGEU,
  LB, LH, LW, LBU, LHU,
  SB, SH, SW,
  ADDI, SLTI, SLTIU, XORI, ORI, ANDI, SLLI, SRLI, SRAI,
  ADD, SUB, SLL, SLT, SLTU, XOR, SRL, SRA, OR, AND,
  FENCE, FENCE_TSO, PAUSE, ECALL, EBREAK,
  // Zifencei
  FENCE_I,
  // Zicsr
  CSRRW, CSRRS, CSRRC, CSRRWI, CSRRSI, CSRRCI,
  // M
  MUL, MULH, MULHSU, MULHU, DIV, DIVU, REM, REMU,
  // A
  LR_W, SC_W, AMOSWAP_W, AMOADD_W, AMOXOR_W, AMOAND_W, AMOOR_W, AMOMIN_W, AMOMAX_W, AMOMINU_W, AMOMAXU_W,
  // Privileged
  SRET, MRET, WFI, SFENCE_VMA,
  // H extension (executed once the hart has H; decoded always)
  HFENCE_VVMA, HFENCE_GVMA,
  HLV_B, HLV_BU, HLV_H, HLV_HU, HLVX_HU, HLV_W, HLVX_WU, HSV_B, HSV_H, HSV_W,
  // Xsensitive (docs/reference.md)
  RDPRIV, SETSIE, TOUSER,
  // C (RV32), each expanding to a base instruction
  C_ADDI4SPN, C_LW, C_SW, C_NOP, C_ADDI, C_JAL, C_LI, C_ADDI16SP, C_LUI,
  C_SRLI, C_SRAI, C_ANDI, C_SUB, C_XOR, C_OR, C_AND, C_J, C_BEQZ, C_BNEZ,
  C_SLLI, C_LWSP, C_JR, C_MV, C_EBREAK, C_JALR, C_ADD, C_SWSP,
  /** Number of ids; not an instruction. */
  COUNT,
}
