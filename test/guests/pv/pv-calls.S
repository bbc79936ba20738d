# A para-virtual S-mode kernel (vmlab --mode pv) that calls every function of vmlab's PV extension
# and prints what comes back (a0 = error, a1 = value), hostile calls included:
#   features; set_root of a root it built itself (its 4 MiB mapped with 4 KiB pages, the table pages
#   read-only); one mmu_update batch that maps a new page at 0xC0000000 through a new level-0 table;
#   refused: a plain store to a table page with paging off (store page fault), a foreign frame, a table page mapped
#   writable, an oversized and a misaligned batch, a root outside the guest, csr_write satp, a machine
#   CSR, `csrw satp` itself (illegal instruction), blk_rw beyond the disk, into a table page and
#   outside RAM; csr_read/csr_write of sscratch; set_irq around an SBI timer interrupt; flush;
#   blk_rw read and write (with a disk); return_to_user into a user function whose ecall ends the run.
# Errors: -2 NOT_SUPPORTED, -3 INVALID_PARAM, -4 DENIED, -5 INVALID_ADDRESS.
        .equ    PV, 0x08564D4C
        .equ    EID_TIME, 0x54494D45
        .equ    EID_SRST, 0x53525354
        .equ    PTE_RWX, 0xCF           # V R W X A D
        .equ    PTE_RO, 0x43            # V R A
        .equ    PTE_RW, 0xC7            # V R W A D
        .equ    KBASE, 0x80400000
        .equ    FOREIGN, 0xF0000        # a page far above the VM's RAM

.macro PVCALL name, fid, r0=0, r1=0, r2=0, r3=0
        la      a0, 91f
        call    puts
        li      a0, \r0
        li      a1, \r1
        li      a2, \r2
        li      a3, \r3
        li      a6, \fid
        li      a7, PV
        ecall
        call    result
        .section .rodata
91:     .asciz  "\name "
        .text
.endm

# pv call with a0/a1 from registers s-something already set: prints name, calls fid
.macro PVREG name, fid
        la      t0, 91f
        mv      s11, a0
        mv      a0, t0
        call    puts
        mv      a0, s11
        li      a6, \fid
        li      a7, PV
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
        la      t0, trap
        csrw    stvec, t0
        PVCALL  features, 0

        # The level-0 table for the kernel's 4 MiB: every page RWX but the table pages, read-only.
        la      t0, l0
        li      t1, 0
        li      t2, KBASE >> 12
1:      slli    t3, t2, 10
        ori     t3, t3, PTE_RWX
        sw      t3, 0(t0)
        addi    t0, t0, 4
        addi    t2, t2, 1
        addi    t1, t1, 1
        li      t3, 1024
        blt     t1, t3, 1b
        la      a0, root
        call    map_ro
        la      a0, l0
        call    map_ro
        la      a0, l0b
        call    map_ro
        la      a0, user                # the user program's page: U set
        call    map_ro
        ori     a0, a0, 0xDF
        sw      a0, 0(t0)
        # root[0x201] -> l0
        la      t0, root
        la      t1, l0
        srli    t1, t1, 12
        slli    t1, t1, 10
        ori     t1, t1, 1
        li      t2, 0x201*4
        add     t0, t0, t2
        sw      t1, 0(t0)
        la      a0, s_set_root
        call    puts
        la      a0, root
        srli    a0, a0, 12
        li      t0, 0x80000000
        or      a0, a0, t0
        li      a6, 1
        li      a7, PV
        ecall
        call    result

        # One batch: l0b read-only already; root[0x300] -> l0b; l0b[0] -> data, RW
        la      t0, batch
        la      t1, root
        li      t2, 0x300*4
        add     t1, t1, t2
        sw      t1, 0(t0)
        la      t1, l0b
        srli    t1, t1, 12
        slli    t1, t1, 10
        ori     t1, t1, 1
        sw      t1, 4(t0)
        la      t1, l0b
        sw      t1, 8(t0)
        la      t1, data
        srli    t1, t1, 12
        slli    t1, t1, 10
        ori     t1, t1, PTE_RW
        sw      t1, 12(t0)
        la      a0, batch
        li      a1, 2
        PVREG   mmu_update, 2
        li      t0, 0xC0000000
        li      t1, 0x5eed
        sw      t1, 0(t0)
        la      a0, s_via_c0
        call    puts
        la      t0, data
        lw      a0, 0(t0)
        call    puthex
        li      a0, '\n'
        call    putc

        # Its own tables map the table pages read-only; with paging off every page is writable to
        # it, but a table page stays read-only: the VMM refuses the store (a store page fault, 15).
        PVCALL  set_root.off, 1, 0
        la      a0, s_store_table
        call    puts
        la      t0, l0
        sw      zero, 0(t0)
        call    report_fault
        la      a0, s_set_root
        call    puts
        la      a0, root
        srli    a0, a0, 12
        li      t0, 0x80000000
        or      a0, a0, t0
        li      a6, 1
        li      a7, PV
        ecall
        call    result

        # Hostile batches: each refused, nothing changed
        la      t0, batch
        la      t1, l0b
        addi    t1, t1, 4
        sw      t1, 0(t0)
        li      t1, (FOREIGN << 10) | PTE_RW
        sw      t1, 4(t0)
        la      a0, batch
        li      a1, 1
        PVREG   mmu_update.foreign_frame, 2
        la      t0, batch
        la      t1, root
        srli    t1, t1, 12
        slli    t1, t1, 10
        ori     t1, t1, PTE_RW
        sw      t1, 4(t0)
        la      a0, batch
        li      a1, 1
        PVREG   mmu_update.table_writable, 2
        la      a0, s_unchanged
        call    puts
        la      t0, l0b
        lw      a0, 4(t0)
        call    puthex
        li      a0, '\n'
        call    putc
        la      a0, batch
        li      a1, 513
        PVREG   mmu_update.oversized, 2
        la      a0, batch
        addi    a0, a0, 2
        li      a1, 1
        PVREG   mmu_update.misaligned, 2
        PVCALL  mmu_update.outside_ram, 2, 0x10000000, 1
        PVCALL  set_root.outside_guest, 1, 0x80010000
        PVCALL  csr_write.satp, 5, 0x180, 0
        PVCALL  csr_read.mstatus, 4, 0x300
        PVCALL  csr_write.sscratch, 5, 0x140, 0x1234
        PVCALL  csr_read.sscratch, 4, 0x140
        PVCALL  flush.all, 3, -1, 0
        PVCALL  unknown_function, 9
        la      a0, s_csrw_satp
        call    puts
        csrw    satp, zero
        call    report_fault

        # blk_rw: sector 0 into buf, written back as sector 1; hostile transfers
        la      a1, buf
        li      a0, 0
        li      a2, 1
        li      a3, 0
        PVREG   blk_rw.read, 8
        la      a0, s_sector0
        call    puts
        la      t0, buf
        lw      a0, 0(t0)
        call    puthex
        li      a0, '\n'
        call    putc
        la      a1, buf
        li      a0, 1
        li      a2, 1
        li      a3, 1
        PVREG   blk_rw.write, 8
        la      a1, buf
        li      a0, 0x7fffffff
        li      a2, 1
        li      a3, 0
        PVREG   blk_rw.beyond_disk, 8
        la      a1, l0
        li      a0, 0
        li      a2, 1
        li      a3, 0
        PVREG   blk_rw.into_table, 8
        li      a1, 0x10000000
        li      a0, 0
        li      a2, 1
        li      a3, 0
        PVREG   blk_rw.outside_ram, 8

        # set_irq around a timer interrupt (SBI set_timer: the interrupt arrives as STIP)
        li      t0, 0x20
        csrs    sie, t0
        rdtime  a0
        addi    a0, a0, 200
        li      a1, 0
        li      a6, 0
        li      a7, EID_TIME
        ecall
        PVCALL  set_irq.on, 6, 1
2:      la      t0, ticks
        lw      t0, 0(t0)
        beqz    t0, 2b
        PVCALL  set_irq.off, 6, 0
        la      a0, s_tick
        call    puts

        # into the user program: its ecall comes back as scause 8
        la      a0, s_to_user
        call    puts
        la      a0, user
        li      a6, 7
        li      a7, PV
        ecall
        la      a0, s_returned
        call    puts
        j       shutdown


map_ro: # the l0 entry of the kernel page at a0: read-only
        la      t0, l0
        li      t1, KBASE
        sub     t1, a0, t1
        srli    t1, t1, 12
        slli    t1, t1, 2
        add     t0, t0, t1
        srli    a0, a0, 12
        slli    a0, a0, 10
        ori     a0, a0, PTE_RO
        sw      a0, 0(t0)
        ret

report_fault:   # prints the last exception's scause and clears it
        addi    sp, sp, -4
        sw      ra, 0(sp)
        la      t0, fault
        lw      a0, 0(t0)
        sw      zero, 0(t0)
        call    puthex
        li      a0, '\n'
        call    putc
        lw      ra, 0(sp)
        addi    sp, sp, 4
        ret

        .balign 4
trap:   # a timer interrupt: count it, timer off; the user's ecall: report and shut down;
        # another exception: record scause, skip the instruction
        addi    sp, sp, -16
        sw      t0, 0(sp)
        sw      t1, 4(sp)
        sw      a0, 8(sp)
        sw      a1, 12(sp)
        csrr    t0, scause
        bgez    t0, 1f
        la      t1, ticks
        li      a0, 1
        sw      a0, 0(t1)
        li      a0, -1
        li      a1, -1
        li      a6, 0
        li      a7, EID_TIME
        ecall
        j       2f
1:      li      t1, 8
        beq     t0, t1, from_user
        la      t1, fault
        sw      t0, 0(t1)
        csrr    t0, sepc
        addi    t0, t0, 4
        csrw    sepc, t0
2:      lw      t0, 0(sp)
        lw      t1, 4(sp)
        lw      a0, 8(sp)
        lw      a1, 12(sp)
        addi    sp, sp, 16
        sret
from_user:
        mv      s10, a7
        la      a0, s_user
        call    puts
        mv      a0, s10
        call    puthex
        li      a0, '\n'
        call    putc
shutdown:
        la      a0, s_bye
        call    puts
        li      a0, 0
        li      a1, 0
        li      a6, 0
        li      a7, EID_SRST
        ecall
4:      j       4b

result: # prints a0 and a1, then a newline
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

putc:   li      a7, 1
        ecall
        ret

puts:   addi    sp, sp, -8
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

puthex: addi    sp, sp, -12
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

        .balign 4096
user:   # the user program, alone in its page (U set in the kernel's table)
        li      a7, 42
        ecall
3:      j       3b
        .balign 4096

        .section .rodata
s_set_root:     .asciz  "set_root "
s_via_c0:       .asciz  "stored 0x5eed through 0xc0000000, the data page holds "
s_store_table:  .asciz  "plain store to a table page: scause "
s_unchanged:    .asciz  "the refused entries left l0b[1] = "
s_csrw_satp:    .asciz  "csrw satp: scause "
s_sector0:      .asciz  "sector 0 begins with "
s_tick:         .asciz  "timer interrupt taken between set_irq on and off\n"
s_to_user:      .asciz  "return_to_user\n"
s_returned:     .asciz  "return_to_user returned: wrong\n"
s_user:         .asciz  "ecall from the user program, a7 = "
s_bye:          .asciz  "shutdown\n"
        .data
        .balign 4
fault:  .word   0
ticks:  .word   0
batch:  .zero   16
        .balign 4096
root:   .zero   4096
l0:     .zero   4096
l0b:    .zero   4096
data:   .zero   4096
buf:    .zero   4096
stack:  .zero   4096
stack_top:
