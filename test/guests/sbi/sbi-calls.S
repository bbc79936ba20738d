# An S-mode kernel that calls every SBI function vmlab's `--bios sbi` answers and prints what comes
# back (a0 = error, a1 = value), so its console output can be compared with OpenSBI's on QEMU:
# base (spec version, probes of present and absent extensions, mvendorid, an unknown function;
# not PMU, which OpenSBI has and vmlab does not, nor marchid and mimpid, which QEMU sets to its
# version and vmlab's hart leaves 0),
# TIME (a timer interrupt as STIP), IPI (a software interrupt to itself; a bad hart mask), RFENCE,
# HSM (status and start of hart 0, an absent hart), DBCN (write, write_byte, read with no input, an
# address above 4 GiB), the legacy calls (putchar prints everything, getchar, send/clear IPI, a
# hart mask pointer that faults,
# set_timer), SRST with a bad type and a bad reason, and at last SRST shutdown (exit 0).
# Linked at 0x80400000, where QEMU puts a kernel behind a firmware.
        .equ    EID_BASE, 0x10
        .equ    EID_TIME, 0x54494D45
        .equ    EID_IPI, 0x735049
        .equ    EID_RFENCE, 0x52464E43
        .equ    EID_HSM, 0x48534D
        .equ    EID_SRST, 0x53525354
        .equ    EID_DBCN, 0x4442434E
        .equ    SIE_SSIE, 0x2
        .equ    SIE_STIE, 0x20
        .equ    SSTATUS_SIE, 0x2

# SBI eid, fid, a0, a1, a2: call and print "name a0 a1"
.macro CALL name, eid, fid, r0=0, r1=0, r2=0
        la      a0, 91f
        call    puts
        li      a0, \r0
        li      a1, \r1
        li      a2, \r2
        li      a6, \fid
        li      a7, \eid
        ecall
        call    result
        .section .rodata
91:     .asciz  "\name "
        .text
.endm

        .text
        .globl  _start
_start:
        la      sp, stack_top
        mv      s0, a0
        mv      s1, a1
        la      t0, s_trap
        csrw    stvec, t0
        la      a0, s_hello
        call    puts
        mv      a0, s0
        call    puthex
        li      a0, ' '
        call    putc
        lw      a0, 0(s1)
        call    puthex
        li      a0, '\n'
        call    putc

        CALL    base.spec_version, EID_BASE, 0
        CALL    base.mvendorid, EID_BASE, 4
        CALL    base.unknown_fid, EID_BASE, 99
        la      s2, probes
1:      lw      s3, 0(s2)
        addi    s2, s2, 4
        li      t0, -1
        beq     s3, t0, 2f
        la      a0, s_probe
        call    puts
        mv      a0, s3
        call    puthex
        li      a0, ' '
        call    putc
        mv      a0, s3
        li      a6, 3
        li      a7, EID_BASE
        ecall
        call    result
        j       1b
2:
        CALL    unknown_extension, 0x0A000000, 0

        # TIME: a deadline a little ahead; the interrupt arrives as STIP
        li      t0, SIE_STIE
        csrs    sie, t0
        rdtime  a0
        rdtimeh a1
        addi    a0, a0, 500
        sltiu   t0, a0, 500
        add     a1, a1, t0
        li      a6, 0
        li      a7, EID_TIME
        ecall
        call    result_quiet
        # Wait with SIE clear, so the interrupt cannot come between the test of ticks and the wfi
        # (taken there, it would leave the wfi sleeping for good); wfi wakes on the pending STIP
        # all the same, and setting SIE takes it.
3:      la      t0, ticks
        lw      t0, 0(t0)
        bnez    t0, 4f
        wfi
        csrsi   sstatus, SSTATUS_SIE
        csrci   sstatus, SSTATUS_SIE
        j       3b
4:
        la      a0, s_tick
        call    puts
        la      t0, last_cause
        lw      a0, 0(t0)
        call    puthex
        li      a0, '\n'
        call    putc
        CALL    time.unknown_fid, EID_TIME, 1

        # IPI to this hart: SSIP, taken once SIE is on
        li      t0, SIE_SSIE
        csrs    sie, t0
        CALL    ipi.send_self, EID_IPI, 0, 1, 0
        csrsi   sstatus, SSTATUS_SIE
        nop
        nop
        csrci   sstatus, SSTATUS_SIE
        call    report_ipi
        CALL    ipi.send_all, EID_IPI, 0, 0, -1
        csrsi   sstatus, SSTATUS_SIE
        nop
        csrci   sstatus, SSTATUS_SIE
        call    report_ipi
        CALL    ipi.bad_base, EID_IPI, 0, 1, 1
        call    report_ipi
        CALL    ipi.unknown_fid, EID_IPI, 1, 1, 0

        CALL    rfence.fence_i, EID_RFENCE, 0, 1, 0
        CALL    rfence.sfence_vma, EID_RFENCE, 1, 1, 0
        CALL    hsm.status0, EID_HSM, 2, 0
        CALL    hsm.status1, EID_HSM, 2, 1
        CALL    hsm.start0, EID_HSM, 0, 0, 0x80400000, 0

        # DBCN: a physical address; above 4 GiB (a2 != 0) fails
        la      a0, s_dbcn_name
        call    puts
        li      a0, 9
        la      a1, s_dbcn
        li      a2, 0
        li      a6, 0
        li      a7, EID_DBCN
        ecall
        call    result
        la      a0, s_dbcn_high
        call    puts
        li      a0, 9
        la      a1, s_dbcn
        li      a2, 1
        li      a6, 0
        li      a7, EID_DBCN
        ecall
        call    result
        CALL    dbcn.write_byte, EID_DBCN, 2, 0x21
        la      a0, s_dbcn_read
        call    puts
        li      a0, 8
        la      a1, buffer
        li      a2, 0
        li      a6, 1
        li      a7, EID_DBCN
        ecall
        call    result
        CALL    dbcn.unknown_fid, EID_DBCN, 7

        # legacy (v0.1): a0 only
        la      a0, s_getchar
        call    puts
        li      a7, 2
        ecall
        call    puthex
        li      a0, '\n'
        call    putc
        li      t0, SIE_SSIE
        csrs    sie, t0
        la      a0, s_send_ipi
        call    puts
        la      a0, hart_mask
        li      a7, 4
        ecall
        mv      s3, a0
        csrr    a0, sip
        andi    a0, a0, SIE_SSIE
        call    puthex
        li      a0, ' '
        call    putc
        mv      a0, s3
        call    puthex
        li      a0, '\n'
        call    putc
        li      a7, 3
        ecall
        # a hart mask pointer that faults: the load access fault comes to S-mode at the ecall
        la      a0, s_bad_mask
        call    puts
        li      a0, 0x00200000
        li      a7, 4
1:      ecall
        la      t0, fault_epc
        lw      t0, 0(t0)
        la      t1, 1b
        sub     a0, t0, t1
        call    puthex
        li      a0, ' '
        call    putc
        la      t0, fault_cause
        lw      a0, 0(t0)
        call    puthex
        li      a0, ' '
        call    putc
        la      t0, fault_tval
        lw      a0, 0(t0)
        call    puthex
        li      a0, '\n'
        call    putc
        la      a0, s_clear_ipi
        call    puts
        csrr    a0, sip
        andi    a0, a0, SIE_SSIE
        call    puthex
        li      a0, '\n'
        call    putc
        la      t0, ticks
        sw      zero, 0(t0)
        rdtime  a0
        rdtimeh a1
        addi    a0, a0, 300
        sltiu   t0, a0, 300
        add     a1, a1, t0
        li      a7, 0
        ecall
        # As above: wait with SIE clear.
5:      la      t0, ticks
        lw      t0, 0(t0)
        bnez    t0, 6f
        wfi
        csrsi   sstatus, SSTATUS_SIE
        csrci   sstatus, SSTATUS_SIE
        j       5b
6:
        la      a0, s_legacy_tick
        call    puts

        CALL    srst.bad_type, EID_SRST, 0, 5, 0
        CALL    srst.bad_reason, EID_SRST, 0, 0, 7
        CALL    srst.unknown_fid, EID_SRST, 1
        la      a0, s_bye
        call    puts
        li      a0, 0
        li      a1, 0
        li      a6, 0
        li      a7, EID_SRST
        ecall
7:      j       7b

report_ipi:     # prints and clears the count of software interrupts taken
        addi    sp, sp, -4
        sw      ra, 0(sp)
        la      a0, s_ipis
        call    puts
        la      t0, ipis
        lw      a0, 0(t0)
        sw      zero, 0(t0)
        call    puthex
        li      a0, '\n'
        call    putc
        lw      ra, 0(sp)
        addi    sp, sp, 4
        ret

        .balign 4
s_trap: # timer: count, record scause, push the timer out; software: count, clear SSIP
        addi    sp, sp, -20
        sw      a0, 0(sp)
        sw      a1, 4(sp)
        sw      a6, 8(sp)
        sw      a7, 12(sp)
        sw      t0, 16(sp)
        csrr    a0, scause
        bgez    a0, 3f
        la      t0, last_cause
        sw      a0, 0(t0)
        li      t0, 0x80000001
        beq     a0, t0, 1f
        la      t0, ticks
        li      a1, 1
        sw      a1, 0(t0)
        li      a0, -1
        li      a1, -1
        li      a6, 0
        li      a7, EID_TIME
        ecall
        j       2f
1:      csrci   sip, SIE_SSIE
        la      t0, ipis
        lw      a1, 0(t0)
        addi    a1, a1, 1
        sw      a1, 0(t0)
2:      lw      a0, 0(sp)
        lw      a1, 4(sp)
        lw      a6, 8(sp)
        lw      a7, 12(sp)
        lw      t0, 16(sp)
        addi    sp, sp, 20
        sret
3:      # an exception: record it and go on after the instruction (an ecall)
        la      t0, fault_cause
        sw      a0, 0(t0)
        csrr    a0, stval
        la      t0, fault_tval
        sw      a0, 0(t0)
        csrr    a0, sepc
        la      t0, fault_epc
        sw      a0, 0(t0)
        addi    a0, a0, 4
        csrw    sepc, a0
        j       2b

result:         # prints a0 and a1 of an SBI call, then a newline
        addi    sp, sp, -8
        sw      ra, 4(sp)
        sw      a1, 0(sp)
        call    puthex
        li      a0, ' '
        call    putc
        lw      a0, 0(sp)
        call    puthex
        li      a0, '\n'
        call    putc
        lw      ra, 4(sp)
        addi    sp, sp, 8
        ret

result_quiet:   # prints "time.set_timer a0 a1"
        addi    sp, sp, -12
        sw      ra, 8(sp)
        sw      a0, 4(sp)
        sw      a1, 0(sp)
        la      a0, s_set_timer
        call    puts
        lw      a0, 4(sp)
        lw      a1, 0(sp)
        call    result
        lw      ra, 8(sp)
        addi    sp, sp, 12
        ret

putc:   # legacy console putchar (EID 1)
        li      a7, 1
        ecall
        ret

puts:
        addi    sp, sp, -8
        sw      ra, 4(sp)
        sw      s6, 0(sp)
        mv      s6, a0
1:      lbu     a0, 0(s6)
        beqz    a0, 2f
        call    putc
        addi    s6, s6, 1
        j       1b
2:      lw      s6, 0(sp)
        lw      ra, 4(sp)
        addi    sp, sp, 8
        ret

puthex:
        addi    sp, sp, -12
        sw      ra, 8(sp)
        sw      s6, 4(sp)
        sw      s7, 0(sp)
        mv      s6, a0
        li      s7, 28
1:      srl     a0, s6, s7
        andi    a0, a0, 15
        li      t0, 10
        blt     a0, t0, 2f
        addi    a0, a0, 'a' - 10 - '0'
2:      addi    a0, a0, '0'
        call    putc
        addi    s7, s7, -4
        bgez    s7, 1b
        lw      s7, 0(sp)
        lw      s6, 4(sp)
        lw      ra, 8(sp)
        addi    sp, sp, 12
        ret

        .section .rodata
        .balign 4
probes: .word   EID_BASE, EID_TIME, EID_IPI, EID_RFENCE, EID_HSM, EID_SRST, EID_DBCN
        .word   0x53555350, 0x43505043, 0x4E41434C, 0x08564D4C
        .word   0, 1, 2, 3, 4, 5, 6, 7, 8, 9, -1
s_hello:        .asciz  "sbi-calls: hart, DTB magic "
s_probe:        .asciz  "base.probe "
s_set_timer:    .asciz  "time.set_timer "
s_tick:         .asciz  "time: interrupt, scause "
s_ipis:         .asciz  "ipi: software interrupts taken "
s_dbcn_name:    .asciz  "dbcn.write "
s_dbcn:         .ascii  "dbcn text"
s_dbcn_high:    .asciz  "dbcn.write_above_4g "
s_dbcn_read:    .asciz  "dbcn.read "
s_getchar:      .asciz  "legacy.getchar "
s_send_ipi:     .asciz  "legacy.send_ipi sip.SSIP, a0 "
s_bad_mask:     .asciz  "legacy.send_ipi bad mask pointer: sepc - ecall, scause, stval "
s_clear_ipi:    .asciz  "legacy.clear_ipi sip.SSIP "
s_legacy_tick:  .asciz  "legacy.set_timer: interrupt\n"
s_bye:          .asciz  "srst: shutdown\n"
        .data
        .balign 4
hart_mask:      .word   1
ticks:          .word   0
ipis:           .word   0
last_cause:     .word   0
fault_cause:    .word   0
fault_tval:     .word   0
fault_epc:      .word   0
buffer:         .zero   16
        .bss
        .balign 16
stack:  .zero   2048
stack_top:
