# A tiny hypervisor in HS-mode running a guest in VS/VU (H extension, needs -cpu rv32,h=true).
# M-mode first probes the H CSRs (reset values, writable bits), then enters HS. HS builds a G-stage
# table (Sv32x4: identity megapages for RAM and the UART, guest-physical 0xc0000000 remapped to a
# host page, 0xc0001000 mapped on demand, 0xc0003000 never) and enters the guest. The guest probes
# virtual-instruction exceptions, VU-mode, an injected VS software interrupt, traps taken in M from
# V=1, then its own Sv32 table over the G-stage: remapped data, a guest-page fault on data, a VS page
# fault it handles itself, and guest-page faults on its own page-table reads (load and fetch). HS then
# uses HLV, HLVX and HSV on the guest's addresses. Every trap prints cause, epc, tval, htval and the
# hstatus bits (GVA, SPV, SPVP); M prints mstatush (MPV, GVA) and mtval2.
.include "runtime.inc"

.equ HSTATUS_GVA, 0x40
.equ HSTATUS_SPV, 0x80
.equ HSTATUS_SPVP, 0x100
.equ HSTATUS_VTVM, 0x100000
.equ HSTATUS_VTW, 0x200000
.equ G_RWXU, 0xdf
.equ G_RWU, 0xd7
.equ GPA_REMAP, 0xc0000000
.equ VA_WIN, 0x40000000
.equ VA_NOPT, 0x40400000

# SVC n: the guest's request n to the hypervisor (ecall from VS, a7 = n).
.macro SVC n
  li a7, \n
  ecall
.endm

.text
main:
  SET_MHOOK m_hook
  # ---- M: the H CSRs at reset and their writable bits ----
  csrr t0, misa
  srli t0, t0, 7
  andi t0, t0, 1
  PR "misa.H", t0
  PCSR "mideleg0", mideleg
  PCSR "hstatus0", hstatus
  PCSR "mstatush0", mstatush
  li s0, -1
  csrw medeleg, s0
  PCSR "medeleg", medeleg
  csrw mideleg, s0
  PCSR "mideleg", mideleg
  csrw hedeleg, s0
  PCSR "hedeleg", hedeleg
  csrw hideleg, s0
  PCSR "hideleg", hideleg
  csrw mie, s0
  PCSR "mie", mie
  PCSR "hie", hie
  PCSR "sie", sie
  PCSR "vsie", vsie
  csrw mip, s0
  PCSR "mip", mip
  PCSR "hip", hip
  PCSR "hvip", hvip
  PCSR "sip", sip
  PCSR "vsip", vsip
  csrw mip, zero
  csrw hvip, s0
  PCSR "mip.hvip", mip
  csrw hvip, zero
  csrw mie, zero
  csrw hie, s0
  PCSR "mie.hie", mie
  csrw mie, zero
  csrw hgeie, s0
  PCSR "hgeie", hgeie
  PCSR "hgeip", hgeip
  csrw hcounteren, s0
  PCSR "hcounteren", hcounteren
  csrw hcounteren, zero
  csrw hgatp, s0
  PCSR "hgatp", hgatp
  csrw hgatp, zero
  li t0, 0x12345
  csrw htimedelta, t0
  PCSR "htimedelta", htimedelta
  csrw htimedeltah, s0
  PCSR "htimedeltah", htimedeltah
  csrw htimedelta, zero
  csrw htimedeltah, zero
  li t0, 0x1ff
  csrw vsstatus, t0
  PCSR "vsstatus", vsstatus
  csrw vsstatus, zero
  li t0, 0x80000101
  csrw vstvec, t0
  PCSR "vstvec", vstvec
  csrw vsatp, s0
  PCSR "vsatp", vsatp
  csrw vsatp, zero
  csrw mstatush, s0
  PCSR "mstatush", mstatush
  csrw mstatush, zero
  li t0, 0xabcd
  csrw htval, t0
  PCSR "htval", htval
  csrw mtval2, t0
  PCSR "mtval2", mtval2
  csrw htinst, t0
  PCSR "htinst", htinst
  csrw mtinst, t0
  PCSR "mtinst", mtinst
  csrw htval, zero
  csrw mtval2, zero
  csrw htinst, zero
  csrw mtinst, zero
  # Delegation for the run: ecalls from VU and VS, page and guest-page faults, virtual instruction to
  # HS; illegal instruction and breakpoint stay in M.
  li t0, (1 << 8) | (1 << 10) | (1 << 12) | (1 << 13) | (1 << 15) | (1 << 20) | (1 << 21) | (1 << 22) | (1 << 23)
  csrw medeleg, t0
  csrw mideleg, zero
  li t0, -1
  csrw mcounteren, t0
  GOTO_MODE 1, hs_main

# ---- HS: the hypervisor ----
hs_main:
  PUTS "-- HS\n"
  SET_SHOOK hs_hook
  la a0, groot
  li a1, 16384
  call memzero
  la a0, gl1
  li a1, 4096
  call memzero
  # Identity megapages for the first 8 MiB of RAM and the UART, all U (G-stage leaves are user pages).
  la a0, groot
  li a1, 0x80000000
  li a2, 0x80000000
  li a3, G_RWXU
  call pt_mega
  li a1, 0x80400000
  li a2, 0x80400000
  call pt_mega
  li a1, UART0
  li a2, UART0
  li a3, G_RWU
  call pt_mega
  # Guest-physical 0xc0000000: a level-0 table; its first page is hpage.
  li a1, GPA_REMAP
  la a2, gl1
  call pt_link
  la a0, gl1
  li a1, GPA_REMAP
  la a2, hpage
  li a3, G_RWU
  call pt_4k
  la t0, hpage
  li t1, 0x11110000
  sw t1, 0(t0)
  la t0, hpage2
  li t1, 0x22220000
  sw t1, 0(t0)
  la t0, groot
  srli t0, t0, 12
  li t1, SATP_SV32 | (5 << 22)
  or t0, t0, t1
  csrw hgatp, t0
  hfence.gvma
  li t0, (1 << 2) | (1 << 8) | (1 << 12) | (1 << 13) | (1 << 15)
  csrw hedeleg, t0
  li t0, (1 << 2)
  csrw hideleg, t0
  li t0, HSTATUS_SPV | HSTATUS_SPVP | HSTATUS_VTW
  csrw hstatus, t0
  li t0, MSTATUS_SPP
  csrs sstatus, t0
  la t0, guest_main
  csrw sepc, t0
  sret

# HS trap hook: print the trap, then serve the guest's requests, map 0xc0001000 on demand, resume.
hs_hook:
  lw s0, FRAME_CAUSE(sp)
  lw s1, FRAME_EPC(sp)
  lw s2, FRAME_TVAL(sp)
  csrr s3, htval
  csrr s4, hstatus
  li t0, HSTATUS_GVA | HSTATUS_SPV | HSTATUS_SPVP
  and s4, s4, t0
  PUTS "HS"
  PX " cause", s0
  PX "epc", s1
  PX "tval", s2
  PX "htval", s3
  PR "hst", s4
  li t0, VA_NOPT
  beq s1, t0, hs_ret_ra
  li t0, 10
  beq s0, t0, hs_ecall
  li t0, 21
  bne s0, t0, hs_skip
  li t0, VA_WIN + 0x1000
  bne s2, t0, hs_skip
  # The guest touched 0xc0001000: map it to hpage2 and retry.
  la a0, gl1
  li a1, GPA_REMAP + 0x1000
  la a2, hpage2
  li a3, G_RWU
  call pt_4k
  hfence.gvma zero, zero
  j strap_return
hs_ret_ra:
  lw t0, 4(sp)
  sw t0, FRAME_EPC(sp)
  j strap_return
hs_skip:
  lhu t0, 0(s1)
  andi t0, t0, 3
  li t1, 3
  addi s1, s1, 2
  bne t0, t1, 1f
  addi s1, s1, 2
1:
  sw s1, FRAME_EPC(sp)
  j strap_return
hs_ecall:
  lw t0, 68(sp)
  beqz t0, hs_done
  li t1, 1
  beq t0, t1, hs_print
  li t1, 2
  beq t0, t1, hs_inject
  li t1, 3
  beq t0, t1, hs_vtvm_on
  li t1, 4
  beq t0, t1, hs_vtvm_off
  j hs_skip
hs_print:
  lw t0, 40(sp)
  PR "guest says", t0
  j hs_skip
hs_inject:
  csrsi hvip, 4
  j hs_skip
hs_vtvm_on:
  li t0, HSTATUS_VTVM
  csrs hstatus, t0
  j hs_skip
hs_vtvm_off:
  li t0, HSTATUS_VTVM
  csrc hstatus, t0
  j hs_skip
hs_done:
  # The guest is done: continue in HS (V=0) at hs_after.
  la t0, hs_after
  sw t0, FRAME_EPC(sp)
  li t0, HSTATUS_SPV
  csrc hstatus, t0
  j strap_return
hs_after:
  PUTS "-- guest done\n"
  # Virtual-machine loads and stores from HS, as the guest's supervisor (SPVP = 1).
  li t0, HSTATUS_SPVP
  csrs hstatus, t0
  li s5, VA_WIN
  hlv.w s6, (s5)
  PR "hlv.w", s6
  li s6, 0x5a5a0008
  addi s5, s5, 8
  hsv.w s6, (s5)
  li s5, VA_WIN + 1
  hlv.bu s6, (s5)
  PR "hlv.bu", s6
  li s5, VA_WIN + 2
  hlv.h s6, (s5)
  PR "hlv.h", s6
  la s5, guest_main
  hlvx.hu s6, (s5)
  PR "hlvx.hu", s6
  li s6, 0x77
  li s5, VA_WIN + 0x2000
  hlv.w s6, (s5)
  PR "after hlv fault", s6
  li s5, VA_NOPT + 0x10
  hlv.b s6, (s5)
  PR "after hlv gfault", s6
  la t0, hpage
  lw t1, 4(t0)
  PR "hpage[1]", t1
  lw t1, 8(t0)
  PR "hpage[2]", t1
  PCSR "vsscause", vscause
  PCSR "vsstval", vstval
  PCSR "vsatp", vsatp
  EXIT 0

# M hook: print the trap with mstatush and mtval2, skip the instruction, return (to V=1 when MPV).
m_hook:
  lw s0, FRAME_CAUSE(sp)
  lw s1, FRAME_EPC(sp)
  lw s2, FRAME_TVAL(sp)
  csrr s3, mstatush
  csrr s4, mstatus
  li t0, MSTATUS_MPP
  and s4, s4, t0
  csrr s5, mtval2
  PUTS "M"
  PX " cause", s0
  PX "epc", s1
  PX "tval", s2
  PX "msh", s3
  PX "mpp", s4
  PR "mtval2", s5
  lhu t0, 0(s1)
  andi t0, t0, 3
  li t1, 3
  addi s1, s1, 2
  bne t0, t1, 1f
  addi s1, s1, 2
1:
  sw s1, FRAME_EPC(sp)
  j mtrap_return

# ---- the guest (VS-mode), at guest-physical addresses equal to its host ones ----
guest_main:
  la sp, guest_stack_top
  la t0, guest_trap_stack_top
  csrw sscratch, t0
  la t0, guest_trap
  csrw stvec, t0
  PUTS "-- VS\n"
  PCSR "vs.sstatus", sstatus
  PCSR "vs.satp", satp
  PCSR "vs.sie", sie
  # Virtual-instruction exceptions: hypervisor CSRs, counters hcounteren does not grant, wfi with VTW.
  li t0, 0x55
  csrr t0, hstatus
  PR "after hstatus", t0
  csrr t0, vsstatus
  rdcycle t0
  wfi
  csrr t0, mstatus
  SVC 3
  sfence.vma
  csrr t0, satp
  PR "satp under VTVM", t0
  SVC 4
  li a0, 0x1234
  SVC 1
  # VU-mode (the guest's satp is still bare): ecall goes to the guest, an S CSR to M as illegal.
  li t0, MSTATUS_SPP
  csrc sstatus, t0
  la t0, vu_code
  csrw sepc, t0
  sret
vu_code:
  PUTS "-- VU\n"
  li a7, 7
  ecall
  csrr t0, sstatus
  rdcycle t0
  li a7, 1
  ecall
vu_back:
  PUTS "-- VS again\n"
  PCSR "vs.sstatus", sstatus
  # A VS software interrupt injected through hvip.
  csrsi sie, 2
  PCSR "vs.sie", sie
  csrsi sstatus, 2
  SVC 2
  csrci sstatus, 2
  PCSR "vs.sip", sip
  ebreak
  # The guest's own Sv32 table over the G-stage.
  la a0, vroot
  li a1, 4096
  call memzero
  la a0, vl1
  li a1, 4096
  call memzero
  la a0, vroot
  li a1, 0x80000000
  li a2, 0x80000000
  li a3, PTE_RWX_AD
  call pt_mega
  li a1, 0x80400000
  li a2, 0x80400000
  call pt_mega
  li a1, UART0
  li a2, UART0
  li a3, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D
  call pt_mega
  li a1, VA_WIN
  la a2, vl1
  call pt_link
  li a1, VA_NOPT
  li a2, GPA_REMAP + 0x3000
  call pt_link
  la a0, vl1
  li a1, VA_WIN
  li a2, GPA_REMAP
  li a3, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D
  call pt_4k
  li a1, VA_WIN + 0x1000
  li a2, GPA_REMAP + 0x1000
  call pt_4k
  la a0, vroot
  call satp_on
  PUTS "-- VS paging\n"
  PCSR "vs.satp", satp
  li s0, VA_WIN
  lw s1, 0(s0)
  PR "remapped", s1
  li t0, 0x33330004
  sw t0, 4(s0)
  li s0, VA_WIN + 0x1000
  lw s1, 0(s0)
  PR "on demand", s1
  li s0, VA_WIN + 0x2000
  li s1, 0x66
  lw s1, 0(s0)
  PR "after vs fault", s1
  li s0, VA_NOPT
  lw s1, 0(s0)
  sw s1, 4(s0)
  jalr ra, 0(s0)
  PUTS "-- back from fetch\n"
  SVC 0

# The guest's trap handler (VS-mode): prints the trap; ecall from VU with a7 = 1 returns to VS.
.balign 4
guest_trap:
  csrrw sp, sscratch, sp
  addi sp, sp, -64
  sw ra, 0(sp)
  sw a0, 4(sp)
  sw t0, 8(sp)
  sw t1, 12(sp)
  sw t3, 16(sp)
  sw t4, 20(sp)
  sw t5, 24(sp)
  sw t6, 28(sp)
  sw s0, 32(sp)
  sw s1, 36(sp)
  sw s2, 40(sp)
  csrr s0, scause
  csrr s1, sepc
  csrr s2, stval
  PUTS "VS"
  PX " cause", s0
  PX "epc", s1
  PR "tval", s2
  bltz s0, 2f
  li t0, 8
  bne s0, t0, 3f
  li t0, 1
  bne a7, t0, 3f
  la t0, vu_back
  csrw sepc, t0
  li t0, MSTATUS_SPP
  csrs sstatus, t0
  j 4f
2:
  csrci sip, 2
  j 4f
3:
  lhu t0, 0(s1)
  andi t0, t0, 3
  li t1, 3
  addi s1, s1, 2
  bne t0, t1, 1f
  addi s1, s1, 2
1:
  csrw sepc, s1
4:
  lw ra, 0(sp)
  lw a0, 4(sp)
  lw t0, 8(sp)
  lw t1, 12(sp)
  lw t3, 16(sp)
  lw t4, 20(sp)
  lw t5, 24(sp)
  lw t6, 28(sp)
  lw s0, 32(sp)
  lw s1, 36(sp)
  lw s2, 40(sp)
  addi sp, sp, 64
  csrrw sp, sscratch, sp
  sret

.bss
.balign 16384
groot: .space 16384
gl1: .space 4096
vroot: .space 4096
vl1: .space 4096
hpage: .space 4096
hpage2: .space 4096
  .space 4096
guest_stack_top:
  .space 1024
guest_trap_stack_top:
