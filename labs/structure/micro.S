# micro.S: a microkernel. The kernel (M-mode) keeps only processes, their memory protection,
# synchronous IPC and the console; the file service (fs.S) and the disk driver (virtio.S) run as
# user-mode processes, each in its own memory, and reach one another only through the kernel.
#
#   pid 0  the user program (user.S)
#   pid 1  the file server: fs.S's fs_serve for every message; its disk is a message to pid 2
#   pid 2  the disk driver: virtio.S, with the device's registers in its memory
#
# System calls (ecall):
#   a7 = 1  write(a0 = buffer, a1 = length)      the console driver prints the bytes
#   a7 = 2  exit(a0 = code)                      the test finisher ends the run
#   a7 = 3  call(a0 = pid, a1..a5 = message)     sends the message and waits for the answer:
#                                                a0 = 0 and a1..a5 = the reply, or a0 < 0:
#                                                -9 the server died on the request, -10 no such
#                                                pid or it is not waiting for a message
#   a7 = 4  reply_wait(a0 = client or -1, a1..a5 = reply)
#                                                answers the client (if any) and waits for the next
#                                                message: a0 = the sender's pid, a1..a5 = message
#
# A message is five registers, copied by the kernel from the sender's saved registers to the
# receiver's; bulk data goes through memory the two share (the user program's I/O page `ushare`,
# which the file server may also read and write). A call to a waiting server switches straight to
# it, and its reply straight back: no scheduler runs on the way.
#
# A process that faults is stopped. The kernel restarts the file server or the disk driver from its
# entry point with fresh (zeroed) memory and answers the client waiting on it with -9; a fault of
# the user program ends the run. The scribble switch is the file server's: it runs with the seed,
# and after a restart with 0 (the fault was a one-off).
#
# Boot options (the device tree's /chosen/bootargs: vmlab --append, QEMU -append), as mono.S:
#   reads=N pings=N calls=N   the user program's loop counts (default 10 each)
#   scribble=SEED             switch the file server's scribble bug on (fs.S); 0: off (default)

        .equ SYS_WRITE, 1
        .equ SYS_EXIT, 2
        .equ SYS_CALL, 3
        .equ SYS_REPLY_WAIT, 4
        .equ E_DEAD, -9
        .equ E_INVAL, -10
        .equ CAUSE_ECALL_U, 8
        .equ MPP_MASK, 3 << 11
        .equ PMP_TOR_RX, 0x0d           # A = TOR, X, R
        .equ PMP_TOR_RW, 0x0b           # A = TOR, W, R
        .equ PMP_NAPOT_RW, 0x1b         # A = NAPOT, W, R
        .equ REGION_SIZE, 16384         # each process's data and stack
        .equ USHARE_SIZE, 4096
        .equ MMIO_LO, 0x10001000        # the eight virtio-mmio slots: the driver's device registers
        .equ MMIO_HI, 0x10009000

        .equ NPROC, 3
        .equ PID_USER, 0
        .equ PID_FS, 1
        .equ PID_DRV, 2
        # process control block: the registers (word 0: pc, word i: xi), then
        .equ P_STATE, 128               # READY, WAIT_RECV or WAIT_REPLY
        .equ P_PARTNER, 132             # WAIT_REPLY: the server called
        .equ P_PMPCFG0, 136             # its PMP: entries 0-3, the address of entry 2 and 3,
        .equ P_PMPADDR2, 140            # entries 4-7
        .equ P_PMPADDR3, 144
        .equ P_PMPCFG1, 148
        .equ PCB_SIZE, 160
        .equ READY, 0
        .equ WAIT_RECV, 1
        .equ WAIT_REPLY, 2
        # the process table (proc_conf): entry, data region, shared page or 0, pmpcfg1, name
        .equ C_SIZE, 20

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
        la      a1, str_reads
        li      a2, 10
        call    option
        mv      s1, a0
        mv      a0, s0
        la      a1, str_pings
        li      a2, 10
        call    option
        mv      s2, a0
        mv      a0, s0
        la      a1, str_calls
        li      a2, 10
        call    option
        mv      s3, a0
        mv      a0, s0
        la      a1, str_scribble
        li      a2, 0
        call    option
        mv      s4, a0

        la      t0, utext_start         # PMP entries every process has: 0-1 the user-mode code;
        srli    t0, t0, 2               # 4-5 the virtio-mmio slots, switched on for the driver
        csrw    pmpaddr0, t0
        la      t0, utext_end
        srli    t0, t0, 2
        csrw    pmpaddr1, t0
        li      t0, MMIO_LO >> 2
        csrw    pmpaddr4, t0
        li      t0, MMIO_HI >> 2
        csrw    pmpaddr5, t0
        li      t0, MPP_MASK            # mret goes to U-mode
        csrc    mstatus, t0

        li      a0, PID_USER
        mv      a1, s1
        mv      a2, s2
        mv      a3, s3
        call    proc_start
        li      a0, PID_FS
        mv      a1, s4
        call    proc_start
        li      a0, PID_DRV
        call    proc_start
        la      t0, loaded
        li      t1, -1
        sw      t1, 0(t0)
        li      a0, PID_DRV             # the driver first: it sets up the disk and waits
        j       switch

# proc_start(a0 = pid, a1..a3 = its a0..a2): (re)starts a process from its entry point with zeroed
# registers and memory.
proc_start:
        la      t0, pcbs                # t0: the PCB
        li      t1, PCB_SIZE
        mul     t1, a0, t1
        add     t0, t0, t1
        la      t1, proc_conf           # t1: its configuration
        li      t2, C_SIZE
        mul     t2, a0, t2
        add     t1, t1, t2
        mv      t2, t0
        addi    t3, t0, PCB_SIZE
1:      sw      zero, 0(t2)
        addi    t2, t2, 4
        bne     t2, t3, 1b
        lw      t2, 4(t1)               # zero the data region
        li      t3, REGION_SIZE
        add     t3, t2, t3
        mv      t4, t2
2:      sw      zero, 0(t4)
        addi    t4, t4, 4
        bne     t4, t3, 2b
        sw      t3, 2 * 4(t0)           # sp: the region's top
        lw      t3, 0(t1)
        sw      t3, 0(t0)               # pc: the entry point
        sw      a1, 10 * 4(t0)
        sw      a2, 11 * 4(t0)
        sw      a3, 12 * 4(t0)
        srli    t2, t2, 2               # NAPOT: base / 4 + size / 8 - 1
        li      t3, REGION_SIZE / 8 - 1
        or      t2, t2, t3
        sw      t2, P_PMPADDR2(t0)
        li      t3, (PMP_TOR_RX << 8) | (PMP_NAPOT_RW << 16)
        lw      t2, 8(t1)               # the shared page
        beqz    t2, 3f
        srli    t2, t2, 2
        ori     t2, t2, USHARE_SIZE / 8 - 1
        li      t4, PMP_NAPOT_RW << 24
        or      t3, t3, t4
3:      sw      t2, P_PMPADDR3(t0)
        sw      t3, P_PMPCFG0(t0)
        lw      t2, 12(t1)
        sw      t2, P_PMPCFG1(t0)
        ret

# The trap handler: saves every register of the current process in its PCB (mscratch points to
# it), runs the kernel on its own stack, and returns to the process `current` names.
        .align  2
trap:
        csrrw   t6, mscratch, t6
        save_frame t6
        csrr    t5, mscratch
        sw      t5, 31 * 4(t6)
        csrw    mscratch, t6
        csrr    t0, mepc
        sw      t0, 0(t6)
        mv      s11, t6                 # s11: the PCB
        la      t0, current
        lw      s10, 0(t0)              # s10: its pid
        la      sp, kstack_top
        csrr    t0, mstatus
        li      t1, MPP_MASK
        and     t0, t0, t1
        bnez    t0, panic
        csrr    t0, mcause
        li      t1, CAUSE_ECALL_U
        bne     t0, t1, fault
        lw      t0, 0(s11)              # continue after the ecall
        addi    t0, t0, 4
        sw      t0, 0(s11)
        lw      t0, 17 * 4(s11)         # a7
        li      t1, SYS_CALL
        beq     t0, t1, sys_call
        li      t1, SYS_REPLY_WAIT
        beq     t0, t1, sys_reply_wait
        li      t1, SYS_WRITE
        beq     t0, t1, sys_write_k
        li      t1, SYS_EXIT
        beq     t0, t1, sys_exit_k
        li      t0, -1
        sw      t0, 10 * 4(s11)
        j       resume

# call: the receiver must be waiting for a message; copy a1..a5, block the sender, run the receiver.
sys_call:
        lw      a0, 10 * 4(s11)
        li      t1, NPROC
        bgeu    a0, t1, 1f
        beq     a0, s10, 1f
        la      s9, pcbs
        li      t1, PCB_SIZE
        mul     t1, a0, t1
        add     s9, s9, t1              # s9: the receiver's PCB
        lw      t1, P_STATE(s9)
        li      t2, WAIT_RECV
        bne     t1, t2, 1f
        lw      t1, 11 * 4(s11)
        sw      t1, 11 * 4(s9)
        lw      t1, 12 * 4(s11)
        sw      t1, 12 * 4(s9)
        lw      t1, 13 * 4(s11)
        sw      t1, 13 * 4(s9)
        lw      t1, 14 * 4(s11)
        sw      t1, 14 * 4(s9)
        lw      t1, 15 * 4(s11)
        sw      t1, 15 * 4(s9)
        sw      s10, 10 * 4(s9)         # the receiver learns who called
        sw      zero, P_STATE(s9)       # READY
        li      t1, WAIT_REPLY
        sw      t1, P_STATE(s11)
        sw      a0, P_PARTNER(s11)
        j       switch
1:      li      t0, E_INVAL
        sw      t0, 10 * 4(s11)
        j       resume

# reply_wait: answer the client that waits on this process, then wait for a message.
sys_reply_wait:
        li      t1, WAIT_RECV
        sw      t1, P_STATE(s11)
        lw      a0, 10 * 4(s11)
        li      t1, NPROC
        bgeu    a0, t1, schedule        # -1: nobody to answer
        la      s9, pcbs
        li      t1, PCB_SIZE
        mul     t1, a0, t1
        add     s9, s9, t1              # s9: the client's PCB
        lw      t1, P_STATE(s9)
        li      t2, WAIT_REPLY
        bne     t1, t2, schedule
        lw      t1, P_PARTNER(s9)
        bne     t1, s10, schedule
        lw      t1, 11 * 4(s11)
        sw      t1, 11 * 4(s9)
        lw      t1, 12 * 4(s11)
        sw      t1, 12 * 4(s9)
        lw      t1, 13 * 4(s11)
        sw      t1, 13 * 4(s9)
        lw      t1, 14 * 4(s11)
        sw      t1, 14 * 4(s9)
        lw      t1, 15 * 4(s11)
        sw      t1, 15 * 4(s9)
        sw      zero, 10 * 4(s9)        # a0 = 0: answered
        sw      zero, P_STATE(s9)       # READY
        j       switch

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

# schedule: run the ready process with the highest pid (servers before clients).
schedule:
        la      t0, pcbs + (NPROC - 1) * PCB_SIZE
        li      a0, NPROC - 1
1:      lw      t1, P_STATE(t0)
        beqz    t1, switch
        addi    t0, t0, -PCB_SIZE
        addi    a0, a0, -1
        bgez    a0, 1b
        la      a0, msg_deadlock
        call    puts
        li      a0, 5
        j       finish

# switch(a0 = pid): make it the current process, then resume it.
switch:
        la      t0, current
        sw      a0, 0(t0)

# resume: return to the current process, with its PMP entries when another process ran last.
resume:
        la      t0, current
        lw      t1, 0(t0)
        la      t6, pcbs
        li      t2, PCB_SIZE
        mul     t2, t1, t2
        add     t6, t6, t2
        la      t0, loaded
        lw      t2, 0(t0)
        beq     t2, t1, 1f
        sw      t1, 0(t0)
        lw      t2, P_PMPADDR2(t6)
        csrw    pmpaddr2, t2
        lw      t2, P_PMPADDR3(t6)
        csrw    pmpaddr3, t2
        lw      t2, P_PMPCFG0(t6)
        csrw    pmpcfg0, t2
        lw      t2, P_PMPCFG1(t6)
        csrw    pmpcfg1, t2
1:      csrw    mscratch, t6
        lw      t0, 0(t6)
        csrw    mepc, t0
        restore_frame t6
        mret

# A process faulted: the user program's fault ends the run; a server is restarted, and the client
# waiting on it gets -9.
fault:
        la      a0, msg_kernel
        call    puts
        la      t0, proc_conf
        li      t1, C_SIZE
        mul     t1, s10, t1
        add     t0, t0, t1
        lw      a0, 16(t0)
        call    puts
        la      a0, msg_faulted
        call    puts
        call    report_trap
        li      a0, 3
        beqz    s10, finish             # PID_USER
        la      t0, pcbs                # every client waiting on it: -9, ready
        li      t1, 0
1:      lw      t2, P_STATE(t0)
        li      t3, WAIT_REPLY
        bne     t2, t3, 2f
        lw      t2, P_PARTNER(t0)
        bne     t2, s10, 2f
        li      t2, E_DEAD
        sw      t2, 10 * 4(t0)
        sw      zero, P_STATE(t0)
2:      addi    t0, t0, PCB_SIZE
        addi    t1, t1, 1
        li      t2, NPROC
        bne     t1, t2, 1b
        la      a0, msg_restart
        call    puts
        mv      a0, s10
        li      a1, 0                   # the scribble switch off
        li      a2, 0
        li      a3, 0
        call    proc_start
        j       schedule

# A trap from M-mode: a fault of the kernel itself.
panic:
        la      a0, msg_panic
        call    puts
        call    report_trap
        li      a0, 4
        j       finish

        .include "lib.S"

# ---------------------------------------------------------------------------------- user mode
        .balign 4096
utext_start:
        .include "user.S"

# The user library of this kernel: a file request is a message to the file server.
fs_request:
        mv      a5, a4
        mv      a4, a3
        mv      a3, a2
        mv      a2, a1
        mv      a1, a0
        li      a0, PID_FS
        li      a7, SYS_CALL
        ecall
        bltz    a0, 1f                  # -9 or -10 from the kernel
        mv      a0, a1                  # the server's answer
1:      ret
sys_write:
        li      a7, SYS_WRITE
        ecall
        ret
sys_exit:
        li      a7, SYS_EXIT
        ecall

# The file server (pid 1, a0 = the scribble seed): fs_serve for every message.
fs_server:
        call    fs_init
        beqz    a0, 1f
        la      a0, u_disk_error
        call    uputs
        li      a0, 1
        call    sys_exit
1:      li      a0, -1                  # nobody to answer yet
        li      a1, 0
2:      li      a7, SYS_REPLY_WAIT
        ecall
        mv      s0, a0                  # the client
        mv      a0, a1                  # op and arguments
        mv      a1, a2
        mv      a2, a3
        mv      a3, a4
        mv      a4, a5
        call    fs_serve
        mv      a1, a0                  # the reply
        mv      a0, s0
        j       2b

# The file server's disk: a message to the driver.
blk_rw:
        mv      a3, a2
        mv      a2, a1
        mv      a1, a0
        li      a0, PID_DRV
        li      a7, SYS_CALL
        ecall
        bltz    a0, 1f
        mv      a0, a1
1:      ret

        .include "fs.S"

# The disk driver (pid 2): virtio_rw for every message.
drv_server:
        call    virtio_init
        beqz    a0, 1f
        la      a0, u_no_disk
        call    uputs
        li      a0, 1
        call    sys_exit
1:      li      a0, -1
        li      a1, 0
2:      li      a7, SYS_REPLY_WAIT
        ecall
        mv      s0, a0
        mv      a0, a1                  # sector, buffer, write
        mv      a1, a2
        mv      a2, a3
        call    virtio_rw
        mv      a1, a0
        mv      a0, s0
        j       2b

        .include "virtio.S"

u_no_disk:      .asciz "no disk: run with --disk FILE (vmlab) or -drive/-device virtio-blk-device (QEMU)\n"
u_disk_error:   .asciz "the disk failed\n"
        .balign 4096
utext_end:

        .section .rodata
        .balign 4
proc_conf:
        .word   user_main, udata, ushare, 0, name_user
        .word   fs_server, fsregion, ushare, 0, name_fs
        .word   drv_server, drvregion, 0, PMP_TOR_RW << 8, name_drv
str_reads:      .asciz "reads="
str_pings:      .asciz "pings="
str_calls:      .asciz "calls="
str_scribble:   .asciz "scribble="
name_user:      .asciz "user program"
name_fs:        .asciz "file server"
name_drv:       .asciz "disk driver"
msg_kernel:     .asciz "kernel: the "
msg_faulted:    .asciz " faulted"
msg_restart:    .asciz "kernel: restarting it; its client gets -9\n"
msg_panic:      .asciz "kernel panic: the kernel faulted"
msg_deadlock:   .asciz "kernel: no process can run\n"

        .bss
        .balign 4
current:        .zero 4                 # the pid that runs
loaded:         .zero 4                 # the pid whose PMP entries are loaded
pcbs:           .zero NPROC * PCB_SIZE
        .balign 16
kstack:         .zero 2048
kstack_top:
        .balign REGION_SIZE
udata:          .zero REGION_SIZE       # the user program's data and stack
udata_top:
fsregion:                               # the file server's
fs_data:        .zero REGION_SIZE
drvregion:                              # the disk driver's: its queue first (page-aligned)
blk_data:       .zero REGION_SIZE
ushare:         .zero USHARE_SIZE       # the user program's I/O page, shared with the file server
kernel_end:
scribble_hi:                            # the scribble bug's range: the whole kernel image
