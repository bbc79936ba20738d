# disk-pv.S: disk.S made para-virtual, for `--mode pv`: the same boot counter in sector 0, but no
# virtio driver. The kernel (started in S-mode by the VMM's SBI) moves the sector with the blk_rw
# hypercall, which transfers sectors between the VM's first disk and guest RAM without a virtqueue:
# no device discovery, no descriptors, no rings, no QueueNotify, no waiting for the used ring. The
# VMM refuses a transfer beyond the disk or outside the VM's RAM with an SBI error.
#
#   sector 0, bytes 0..3   the magic "BOOT" (a fresh disk has none: the count starts at 0)
#   sector 0, bytes 4..7   the number of boots so far

        .equ UART, 0x10000000           # ns16550a: THR at +0, LSR at +5
        .equ LSR_THRE, 0x20
        .equ FINISHER, 0x100000         # SiFive test finisher
        .equ FINISH_PASS, 0x5555
        .equ FINISH_FAIL, 0x3333        # (code << 16) | 0x3333
        .equ BOOT_MAGIC, 0x544f4f42     # "BOOT" little-endian
        .equ PV, 0x08564D4C             # vmlab's PV extension of the SBI
        .equ PV_BLK_RW, 8

        .text
        .globl _start
_start:
        la      sp, stack_top
        la      t0, trap
        csrw    stvec, t0
        la      a0, msg_blk
        call    puts

        # Read sector 0, count this boot, write it back.
        li      a3, 0
        call    transfer
        la      t0, sector
        lw      t1, 0(t0)
        li      t2, BOOT_MAGIC
        li      s3, 0
        bne     t1, t2, 1f
        lw      s3, 4(t0)
1:      addi    s3, s3, 1
        sw      t2, 0(t0)
        sw      s3, 4(t0)
        li      a3, 1
        call    transfer

        la      a0, msg_boot
        call    puts
        mv      a0, s3
        call    putdec
        li      a0, '\n'
        call    putc
        li      a0, 0
        j       finish

# transfer(a3 = 0 read, 1 write): sector 0 and the buffer `sector` through blk_rw(sector, gpa,
# count, write); a refusal ends the run with code 2.
transfer:
        li      a0, 0
        la      a1, sector
        li      a2, 1
        li      a6, PV_BLK_RW
        li      a7, PV
        ecall
        bnez    a0, 1f
        ret
1:      la      a0, msg_error
        call    puts
        li      a0, 2
        j       finish

# ---------------------------------------------------------------------------------- console
putc:
        li      t0, UART
1:      lbu     t1, 5(t0)
        andi    t1, t1, LSR_THRE
        beqz    t1, 1b
        sb      a0, 0(t0)
        ret

puts:
        addi    sp, sp, -16
        sw      ra, 12(sp)
        sw      s0, 8(sp)
        mv      s0, a0
1:      lbu     a0, 0(s0)
        beqz    a0, 2f
        call    putc
        addi    s0, s0, 1
        j       1b
2:      lw      s0, 8(sp)
        lw      ra, 12(sp)
        addi    sp, sp, 16
        ret

# puthex(a0): "0x" and eight hex digits.
puthex:
        addi    sp, sp, -16
        sw      ra, 12(sp)
        sw      s0, 8(sp)
        sw      s1, 4(sp)
        mv      s0, a0
        li      a0, '0'
        call    putc
        li      a0, 'x'
        call    putc
        li      s1, 28
1:      srl     a0, s0, s1
        andi    a0, a0, 15
        li      t0, 10
        blt     a0, t0, 2f
        addi    a0, a0, 'a' - '0' - 10
2:      addi    a0, a0, '0'
        call    putc
        addi    s1, s1, -4
        bgez    s1, 1b
        lw      s1, 4(sp)
        lw      s0, 8(sp)
        lw      ra, 12(sp)
        addi    sp, sp, 16
        ret

# putdec(a0): unsigned decimal.
putdec:
        addi    sp, sp, -32
        sw      ra, 28(sp)
        sw      s0, 24(sp)
        addi    s0, sp, 12              # digits grow down from sp + 12
        sb      zero, 12(sp)
        li      t1, 10
1:      remu    t2, a0, t1
        addi    t2, t2, '0'
        addi    s0, s0, -1
        sb      t2, 0(s0)
        divu    a0, a0, t1
        bnez    a0, 1b
        mv      a0, s0
        call    puts
        lw      s0, 24(sp)
        lw      ra, 28(sp)
        addi    sp, sp, 32
        ret

# finish(a0 = exit code): the test finisher ends the run.
finish:
        li      t0, FINISHER
        li      t1, FINISH_PASS
        beqz    a0, 1f
        slli    t1, a0, 16
        li      t2, FINISH_FAIL
        or      t1, t1, t2
1:      sw      t1, 0(t0)
2:      j       2b

        .align  2
trap:
        la      a0, msg_trap
        call    puts
        csrr    a0, scause
        call    puthex
        li      a0, '\n'
        call    putc
        li      a0, 4
        j       finish

        .section .rodata
msg_blk:      .asciz "disk through blk_rw (no virtqueue)\n"
msg_error:    .asciz "disk request failed\n"
msg_boot:     .asciz "boot "
msg_trap:     .asciz "unexpected trap, scause = "

        .bss
        .align  4
sector: .zero 512
        .align  4
stack:  .zero 1024
stack_top:
