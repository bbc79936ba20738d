# mono.S: a monolithic kernel. The console driver, the file service (fs.S) and the disk driver
# (virtio.S) are all part of the kernel: one program in M-mode, in one address space, calling one
# another as procedures. The user program (user.S) runs in U-mode and asks for everything with a
# system call (ecall):
#
#   a7 = 1  write(a0 = buffer, a1 = length)      the console driver prints the bytes
#   a7 = 2  exit(a0 = code)                      the test finisher ends the run
#   a7 = 3  fs(a0 = op, a1..a4 = arguments)      the file service: a0 = fs_serve(op, ...)
#
# Boot options (the device tree's /chosen/bootargs: vmlab --append, QEMU -append):
#   reads=N pings=N calls=N   the user program's loop counts (default 10 each)
#   scribble=SEED             switch the file service's scribble bug on (fs.S); 0: off (default)
#
# PMP gives the user program its code (read/execute), its data and its I/O page (read/write) and
# nothing else; the kernel, in M-mode, reaches all memory. So does its scribble bug.

        .equ SYS_WRITE, 1
        .equ SYS_EXIT, 2
        .equ SYS_FS, 3
        .equ CAUSE_ECALL_U, 8
        .equ MPP_MASK, 3 << 11
        .equ PMP_TOR_RX, 0x0d           # A = TOR, X, R
        .equ PMP_NAPOT_RW, 0x1b         # A = NAPOT, W, R
        .equ UDATA_SIZE, 16384          # the user program's data and stack
        .equ USHARE_SIZE, 4096          # its I/O page

        .include "frame.S"

        .text
        .globl _start
_start:
scribble_lo:
        la      sp, kstack_top
        mv      s0, a1                  # the device tree
        la      t0, trap
        csrw    mtvec, t0
        mv      a0, s0
        call    bootargs
        mv      s0, a0
        la      s1, frame               # the user program's registers: a0..a2 = the loop counts
        la      a1, str_reads
        li      a2, 10
        call    option
        sw      a0, 10 * 4(s1)
        mv      a0, s0
        la      a1, str_pings
        li      a2, 10
        call    option
        sw      a0, 11 * 4(s1)
        mv      a0, s0
        la      a1, str_calls
        li      a2, 10
        call    option
        sw      a0, 12 * 4(s1)
        mv      a0, s0
        la      a1, str_scribble
        li      a2, 0
        call    option
        mv      s2, a0                  # s2: the scribble seed

        call    virtio_init
        beqz    a0, 1f
        la      a0, msg_no_disk
        call    puts
        li      a0, 1
        j       finish
1:      mv      a0, s2
        call    fs_init
        beqz    a0, 2f
        la      a0, msg_disk_error
        call    puts
        li      a0, 1
        j       finish

2:      la      t0, utext_start         # PMP: 0-1 user code, 2 user data, 3 the I/O page
        srli    t0, t0, 2
        csrw    pmpaddr0, t0
        la      t0, utext_end
        srli    t0, t0, 2
        csrw    pmpaddr1, t0
        la      t0, udata               # NAPOT: base / 4 + size / 8 - 1
        srli    t0, t0, 2
        ori     t0, t0, UDATA_SIZE / 8 - 1
        csrw    pmpaddr2, t0
        la      t0, ushare
        srli    t0, t0, 2
        ori     t0, t0, USHARE_SIZE / 8 - 1
        csrw    pmpaddr3, t0
        li      t0, (PMP_TOR_RX << 8) | (PMP_NAPOT_RW << 16) | (PMP_NAPOT_RW << 24)
        csrw    pmpcfg0, t0
        la      t0, user_main
        sw      t0, 0(s1)
        li      t0, MPP_MASK            # mret goes to U-mode
        csrc    mstatus, t0
        csrw    mscratch, s1
        j       resume

# The trap handler: saves every user register in `frame` (mscratch points to it), runs the kernel
# on its own stack, restores them and returns with mret.
        .align  2
trap:
        csrrw   t6, mscratch, t6
        save_frame t6
        csrr    t5, mscratch
        sw      t5, 31 * 4(t6)
        csrw    mscratch, t6
        csrr    t0, mepc
        sw      t0, 0(t6)
        mv      s11, t6                 # s11: the frame
        la      sp, kstack_top
        csrr    t0, mcause
        li      t1, CAUSE_ECALL_U
        bne     t0, t1, fault
        lw      t0, 0(s11)              # continue after the ecall
        addi    t0, t0, 4
        sw      t0, 0(s11)
        lw      t0, 17 * 4(s11)         # a7
        li      t1, SYS_FS
        beq     t0, t1, sys_fs
        li      t1, SYS_WRITE
        beq     t0, t1, sys_write_k
        li      t1, SYS_EXIT
        beq     t0, t1, sys_exit_k
        li      t0, -1
        sw      t0, 10 * 4(s11)
        j       resume

sys_fs:
        lw      a0, 10 * 4(s11)
        lw      a1, 11 * 4(s11)
        lw      a2, 12 * 4(s11)
        lw      a3, 13 * 4(s11)
        lw      a4, 14 * 4(s11)
        call    fs_serve                # the file service: a procedure call
        sw      a0, 10 * 4(s11)
        j       resume

sys_write_k:
        lw      a0, 10 * 4(s11)
        lw      a1, 11 * 4(s11)
        call    putn
        lw      t0, 11 * 4(s11)
        sw      t0, 10 * 4(s11)
        j       resume

sys_exit_k:
        lw      a0, 10 * 4(s11)
        j       finish

resume:
        csrr    t6, mscratch
        lw      t0, 0(t6)
        csrw    mepc, t0
        restore_frame t6
        mret

# Any other trap: the user program's fault kills it; a fault of the kernel itself is a panic.
fault:
        csrr    t0, mstatus
        li      t1, MPP_MASK
        and     t0, t0, t1
        la      a0, msg_user_fault
        beqz    t0, 1f
        la      a0, msg_panic
1:      call    puts
        call    report_trap
        li      a0, 3
        j       finish

# blk_rw(a0 = sector, a1 = buffer, a2 = write): the file service's disk, the driver itself.
blk_rw:
        tail    virtio_rw

        .include "lib.S"
        .include "fs.S"
        .include "virtio.S"

# ---------------------------------------------------------------------------------- user mode
        .balign 4096
utext_start:
        .include "user.S"
# The user library of this kernel: a system call for each request.
fs_request:
        li      a7, SYS_FS
        ecall
        ret
sys_write:
        li      a7, SYS_WRITE
        ecall
        ret
sys_exit:
        li      a7, SYS_EXIT
        ecall
        .balign 4096
utext_end:

        .section .rodata
str_reads:      .asciz "reads="
str_pings:      .asciz "pings="
str_calls:      .asciz "calls="
str_scribble:   .asciz "scribble="
msg_no_disk:    .asciz "no disk: run with --disk FILE (vmlab) or -drive/-device virtio-blk-device (QEMU)\n"
msg_disk_error: .asciz "the disk failed\n"
msg_user_fault: .asciz "kernel: the user program faulted"
msg_panic:      .asciz "kernel panic: the kernel faulted"

        .bss
        .balign 4
frame:          .zero 32 * 4            # pc, then x1..x31
fs_data:        .zero FS_SIZE
        .balign 16
kstack:         .zero 2048
kstack_top:
        .balign 4096
blk_data:       .zero BLK_SIZE
        .balign UDATA_SIZE
udata:          .zero UDATA_SIZE
udata_top:
ushare:         .zero USHARE_SIZE
kernel_end:
scribble_hi:                            # the scribble bug's range: the whole kernel image
