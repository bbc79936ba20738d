# disk.S: a kernel with its own virtio-blk driver that counts its boots on the disk.
#
# The machine starts in M-mode at 0x80000000 (as qemu-system-riscv32 -machine virt -bios none).
# The kernel looks for a virtio block device in the eight virtio-mmio slots, sets it up through the
# legacy (version 1) or modern (version 2) register interface, whichever the slot reports, and then
# keeps a boot counter in sector 0 of the disk:
#
#   sector 0, bytes 0..3   the magic "BOOT" (a fresh disk has none: the count starts at 0)
#   sector 0, bytes 4..7   the number of boots so far
#
# Each boot reads sector 0, adds one, writes the sector back, asks the device to FLUSH (so the count
# is in the host file before the kernel says anything), and prints "boot N".
#
# A request is a chain of three descriptors in the virtqueue: a 16-byte header the device reads
# (type, reserved, sector), the 512-byte data buffer (the device writes it for a read), and one
# status byte the device writes (0 = OK, 1 = IOERR, 2 = UNSUPP). The driver puts the chain's first
# descriptor in the available ring, tells the device with QueueNotify, and waits until the device
# has moved the used ring's index.

        .equ UART, 0x10000000           # ns16550a: THR at +0, LSR at +5
        .equ LSR_THRE, 0x20
        .equ FINISHER, 0x100000         # SiFive test finisher
        .equ FINISH_PASS, 0x5555
        .equ FINISH_FAIL, 0x3333        # (code << 16) | 0x3333

        .equ VIRTIO0, 0x10001000        # slot n at VIRTIO0 + n * 0x1000
        .equ MAGIC_VIRT, 0x74726976     # "virt"
        .equ DEVICE_BLOCK, 2
        # virtio-mmio registers (virtio 1.2, 4.2.2 and 4.2.4)
        .equ R_MAGIC, 0x000
        .equ R_VERSION, 0x004
        .equ R_DEVICE_ID, 0x008
        .equ R_DRV_FEATURES, 0x020
        .equ R_DRV_FEATURES_SEL, 0x024
        .equ R_GUEST_PAGE_SIZE, 0x028   # legacy only
        .equ R_QUEUE_SEL, 0x030
        .equ R_QUEUE_NUM, 0x038
        .equ R_QUEUE_ALIGN, 0x03c       # legacy only
        .equ R_QUEUE_PFN, 0x040         # legacy only
        .equ R_QUEUE_READY, 0x044       # modern only
        .equ R_QUEUE_NOTIFY, 0x050
        .equ R_ISR, 0x060
        .equ R_ISR_ACK, 0x064
        .equ R_STATUS, 0x070
        .equ R_DESC_LO, 0x080           # modern only, and the four below
        .equ R_DRIVER_LO, 0x090
        .equ R_DEVICE_LO, 0x0a0
        .equ S_ACK, 1
        .equ S_DRIVER, 2
        .equ S_DRIVER_OK, 4
        .equ S_FEATURES_OK, 8
        .equ F_FLUSH, 1 << 9            # VIRTIO_BLK_F_FLUSH
        .equ F_VERSION_1_HI, 1          # VIRTIO_F_VERSION_1 is bit 32: bit 0 of the second word
        # virtio-blk request types
        .equ T_IN, 0
        .equ T_OUT, 1
        .equ T_FLUSH, 4
        # descriptor flags
        .equ D_NEXT, 1
        .equ D_WRITE, 2
        .equ QSZ, 8                     # queue size: 8 descriptors
        .equ BOOT_MAGIC, 0x544f4f42     # "BOOT" little-endian

        .text
        .globl _start
_start:
        la      sp, stack_top
        la      t0, trap
        csrw    mtvec, t0

        # Find the first slot holding a block device.
        li      s0, VIRTIO0
        li      s2, 8
find:
        lw      t0, R_MAGIC(s0)
        li      t1, MAGIC_VIRT
        bne     t0, t1, 1f
        lw      t0, R_DEVICE_ID(s0)
        li      t1, DEVICE_BLOCK
        beq     t0, t1, found
1:      li      t0, 0x1000
        add     s0, s0, t0
        addi    s2, s2, -1
        bnez    s2, find
        la      a0, msg_no_disk
        call    puts
        li      a0, 1
        j       finish

found:
        la      a0, msg_found
        call    puts
        mv      a0, s0
        call    puthex
        lw      s1, R_VERSION(s0)       # s1 = 1 legacy, 2 modern
        la      a0, msg_legacy
        li      t0, 1
        beq     s1, t0, 1f
        la      a0, msg_modern
1:      call    puts

        # Device initialization (virtio 1.2, 3.1.1): reset, ACKNOWLEDGE, DRIVER, features.
        sw      zero, R_STATUS(s0)
        li      t0, S_ACK
        sw      t0, R_STATUS(s0)
        li      t0, S_ACK | S_DRIVER
        sw      t0, R_STATUS(s0)
        sw      zero, R_DRV_FEATURES_SEL(s0)
        li      t0, F_FLUSH
        sw      t0, R_DRV_FEATURES(s0)
        li      t0, 1
        sw      t0, R_DRV_FEATURES_SEL(s0)
        li      t0, 0                   # legacy: no second feature word
        li      t1, 1
        beq     s1, t1, 1f
        li      t0, F_VERSION_1_HI
1:      sw      t0, R_DRV_FEATURES(s0)
        li      t0, 1
        beq     s1, t0, queue           # legacy devices have no FEATURES_OK step
        li      t0, S_ACK | S_DRIVER | S_FEATURES_OK
        sw      t0, R_STATUS(s0)
        lw      t0, R_STATUS(s0)
        andi    t0, t0, S_FEATURES_OK
        bnez    t0, queue
        la      a0, msg_features
        call    puts
        li      a0, 3
        j       finish

        # Queue 0: QSZ descriptors; the avail ring after them, the used ring on the next page.
queue:
        sw      zero, R_QUEUE_SEL(s0)
        li      t0, QSZ
        sw      t0, R_QUEUE_NUM(s0)
        la      t2, ring
        li      t0, 1
        bne     s1, t0, modern
        li      t0, 4096
        sw      t0, R_GUEST_PAGE_SIZE(s0)
        sw      t0, R_QUEUE_ALIGN(s0)
        srli    t0, t2, 12
        sw      t0, R_QUEUE_PFN(s0)     # legacy: one page number places all three parts
        j       driver_ok
modern:
        sw      t2, R_DESC_LO(s0)
        sw      zero, R_DESC_LO + 4(s0)
        addi    t0, t2, 16 * QSZ
        sw      t0, R_DRIVER_LO(s0)
        sw      zero, R_DRIVER_LO + 4(s0)
        li      t0, 4096
        add     t0, t2, t0
        sw      t0, R_DEVICE_LO(s0)
        sw      zero, R_DEVICE_LO + 4(s0)
        li      t0, 1
        sw      t0, R_QUEUE_READY(s0)
driver_ok:
        lw      t0, R_STATUS(s0)
        ori     t0, t0, S_DRIVER_OK
        sw      t0, R_STATUS(s0)

        # Read sector 0, count this boot, write it back, flush.
        li      a0, T_IN
        li      a1, 512
        call    request
        la      t0, sector
        lw      t1, 0(t0)
        li      t2, BOOT_MAGIC
        li      s3, 0
        bne     t1, t2, 1f
        lw      s3, 4(t0)
1:      addi    s3, s3, 1
        sw      t2, 0(t0)
        sw      s3, 4(t0)
        li      a0, T_OUT
        li      a1, 512
        call    request
        li      a0, T_FLUSH
        li      a1, 0
        call    request

        la      a0, msg_boot
        call    puts
        mv      a0, s3
        call    putdec
        li      a0, '\n'
        call    putc
        li      a0, 0
        j       finish

# request(a0 = type, a1 = data length, 0 or 512): one request on sector 0 with the buffer `sector`;
# waits for the device, then checks the status byte (a failure ends the run with code 2).
request:
        addi    sp, sp, -16
        sw      ra, 12(sp)
        la      t0, header
        sw      a0, 0(t0)               # type
        sw      zero, 4(t0)             # reserved
        sw      zero, 8(t0)             # sector, low word
        sw      zero, 12(t0)            # sector, high word
        la      t6, ring                # descriptor i at ring + 16 * i: addr (8), len (4), flags (2), next (2)
        sw      t0, 0(t6)
        sw      zero, 4(t6)
        li      t1, 16
        sw      t1, 8(t6)
        li      t1, D_NEXT | (1 << 16)  # flags = NEXT, next = 1
        sw      t1, 12(t6)
        addi    t5, t6, 16              # t5: the descriptor after the header
        beqz    a1, 2f
        la      t1, sector
        sw      t1, 0(t5)
        sw      zero, 4(t5)
        sw      a1, 8(t5)
        li      t1, D_NEXT | (2 << 16)  # a write (OUT): the device only reads the buffer
        bnez    a0, 1f
        li      t1, D_NEXT | D_WRITE | (2 << 16)
1:      sw      t1, 12(t5)
        addi    t5, t5, 16
2:      la      t1, status
        li      t2, 0xff
        sb      t2, 0(t1)
        sw      t1, 0(t5)
        sw      zero, 4(t5)
        li      t2, 1
        sw      t2, 8(t5)
        li      t2, D_WRITE
        sw      t2, 12(t5)
        # avail ring: flags (2), idx (2), ring[QSZ] (2 each); chain head 0 in slot idx % QSZ
        addi    t2, t6, 16 * QSZ
        lhu     t3, 2(t2)
        andi    t4, t3, QSZ - 1
        slli    t4, t4, 1
        add     t4, t2, t4
        sh      zero, 4(t4)
        fence   w, w                    # the entry before the index that publishes it
        addi    t3, t3, 1
        sh      t3, 2(t2)
        fence   w, o                    # the index before the notification
        sw      zero, R_QUEUE_NOTIFY(s0)
        li      t4, 4096
        add     t4, t6, t4              # used ring: flags (2), idx (2), ring[QSZ] of {id, len}
3:      fence   r, r
        lhu     t1, 2(t4)
        bne     t1, t3, 3b              # wait until the device has used our chain
        lw      t1, R_ISR(s0)           # acknowledge the interrupt the device raised
        sw      t1, R_ISR_ACK(s0)
        la      t1, status
        lbu     t1, 0(t1)
        beqz    t1, 4f
        la      a0, msg_error
        call    puts
        li      a0, 2
        j       finish
4:      lw      ra, 12(sp)
        addi    sp, sp, 16
        ret

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

trap:
        la      a0, msg_trap
        call    puts
        csrr    a0, mcause
        call    puthex
        li      a0, '\n'
        call    putc
        li      a0, 4
        j       finish

        .section .rodata
msg_no_disk:  .asciz "no disk: run with --disk FILE (vmlab) or -drive/-device virtio-blk-device (QEMU)\n"
msg_found:    .asciz "virtio-blk at "
msg_legacy:   .asciz ", legacy transport (version 1)\n"
msg_modern:   .asciz ", modern transport (version 2)\n"
msg_features: .asciz "the device refused our features\n"
msg_error:    .asciz "disk request failed\n"
msg_boot:     .asciz "boot "
msg_trap:     .asciz "unexpected trap, mcause = "

        .bss
        .balign 4096
ring:   .zero 2 * 4096                  # descriptors + avail ring, then the used ring
header: .zero 16
sector: .zero 512
status: .zero 4
        .balign 16
stack:  .zero 1024
stack_top:
