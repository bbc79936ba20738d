# virtio.S: the disk driver both kernels share, the driver of labs/disk made into two procedures.
# It runs wherever the kernel puts it: inside the monolithic kernel (M-mode, called by the file
# service), or in the microkernel's disk-driver process (U-mode, reached by IPC). Its state lives
# at `blk_data` (page-aligned, BLK_SIZE bytes), which the including file places.
#
#   virtio_init() -> a0 = 0, or -1 (no block device in the eight virtio-mmio slots), or -2 (the
#                    device refused our features)
#   virtio_rw(a0 = sector, a1 = 512-byte buffer, a2 = 0 read / 1 write) -> a0 = 0 or the status
#                    byte the device wrote (1 IOERR, 2 UNSUPP)
#
# The device moves the data by DMA to and from the buffer's physical address: no CPU access by the
# driver, and no memory protection either (PMP checks the hart's accesses, not the device's).

        .equ VIRTIO0, 0x10001000        # slot n at VIRTIO0 + n * 0x1000
        .equ VIRTIO_END, 0x10009000
        .equ MAGIC_VIRT, 0x74726976     # "virt"
        .equ DEVICE_BLOCK, 2
        .equ R_MAGIC, 0x000             # virtio-mmio registers (virtio 1.2, 4.2.2 and 4.2.4)
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
        .equ R_DESC_LO, 0x080           # modern only, and the two below
        .equ R_DRIVER_LO, 0x090
        .equ R_DEVICE_LO, 0x0a0
        .equ S_ACK, 1
        .equ S_DRIVER, 2
        .equ S_DRIVER_OK, 4
        .equ S_FEATURES_OK, 8
        .equ F_VERSION_1_HI, 1          # VIRTIO_F_VERSION_1: bit 0 of the second feature word
        .equ D_NEXT, 1                  # descriptor flags
        .equ D_WRITE, 2
        .equ QSZ, 8                     # queue size

        # blk_data layout
        .equ BLK_RING, 0                # descriptors + avail ring, then the used ring on the next page
        .equ BLK_HEADER, 8192           # type, reserved, sector (64 bits)
        .equ BLK_STATUS, 8208
        .equ BLK_BASE, 8212             # the device's registers
        .equ BLK_VERSION, 8216          # 1 legacy, 2 modern
        .equ BLK_SIZE, 8224

virtio_init:
        la      a5, blk_data
        li      a3, VIRTIO0
        li      a4, VIRTIO_END
1:      lw      t0, R_MAGIC(a3)
        li      t1, MAGIC_VIRT
        bne     t0, t1, 2f
        lw      t0, R_DEVICE_ID(a3)
        li      t1, DEVICE_BLOCK
        beq     t0, t1, 3f
2:      li      t0, 0x1000
        add     a3, a3, t0
        bne     a3, a4, 1b
        li      a0, -1
        ret
3:      li      t0, BLK_BASE
        add     t0, a5, t0
        sw      a3, 0(t0)
        lw      a4, R_VERSION(a3)       # a4 = 1 legacy, 2 modern
        sw      a4, 4(t0)
        sw      zero, R_STATUS(a3)      # reset, ACKNOWLEDGE, DRIVER, features (virtio 1.2, 3.1.1)
        li      t0, S_ACK
        sw      t0, R_STATUS(a3)
        li      t0, S_ACK | S_DRIVER
        sw      t0, R_STATUS(a3)
        sw      zero, R_DRV_FEATURES_SEL(a3)
        sw      zero, R_DRV_FEATURES(a3)
        li      t0, 1
        sw      t0, R_DRV_FEATURES_SEL(a3)
        li      t1, 0
        beq     a4, t0, 4f
        li      t1, F_VERSION_1_HI
4:      sw      t1, R_DRV_FEATURES(a3)
        beq     a4, t0, 5f              # legacy devices have no FEATURES_OK step
        li      t0, S_ACK | S_DRIVER | S_FEATURES_OK
        sw      t0, R_STATUS(a3)
        lw      t0, R_STATUS(a3)
        andi    t0, t0, S_FEATURES_OK
        bnez    t0, 5f
        li      a0, -2
        ret
5:      sw      zero, R_QUEUE_SEL(a3)   # queue 0
        li      t0, QSZ
        sw      t0, R_QUEUE_NUM(a3)
        li      t0, 1
        bne     a4, t0, 6f
        li      t0, 4096
        sw      t0, R_GUEST_PAGE_SIZE(a3)
        sw      t0, R_QUEUE_ALIGN(a3)
        srli    t0, a5, 12
        sw      t0, R_QUEUE_PFN(a3)     # legacy: one page number places all three parts
        j       7f
6:      sw      a5, R_DESC_LO(a3)
        sw      zero, R_DESC_LO + 4(a3)
        addi    t0, a5, 16 * QSZ
        sw      t0, R_DRIVER_LO(a3)
        sw      zero, R_DRIVER_LO + 4(a3)
        li      t0, 4096
        add     t0, a5, t0
        sw      t0, R_DEVICE_LO(a3)
        sw      zero, R_DEVICE_LO + 4(a3)
        li      t0, 1
        sw      t0, R_QUEUE_READY(a3)
7:      lw      t0, R_STATUS(a3)
        ori     t0, t0, S_DRIVER_OK
        sw      t0, R_STATUS(a3)
        li      a0, 0
        ret

# One request: a chain of three descriptors (header, the sector's buffer, status byte) in slots
# 0..2, published in the available ring; waits until the used ring's index moves. Leaf.
virtio_rw:
        la      a5, blk_data
        li      t0, BLK_HEADER
        add     t0, a5, t0              # t0: the header
        sw      a2, 0(t0)               # type: 0 IN (read), 1 OUT (write)
        sw      zero, 4(t0)
        sw      a0, 8(t0)               # sector, low and high word
        sw      zero, 12(t0)
        sw      t0, 0(a5)               # descriptor 0: the header, 16 bytes, next 1
        sw      zero, 4(a5)
        li      t1, 16
        sw      t1, 8(a5)
        li      t1, D_NEXT | (1 << 16)
        sw      t1, 12(a5)
        sw      a1, 16(a5)              # descriptor 1: the buffer, 512 bytes, next 2
        sw      zero, 20(a5)
        li      t1, 512
        sw      t1, 24(a5)
        li      t1, D_NEXT | (2 << 16)  # the device only reads the buffer of a write
        bnez    a2, 1f
        li      t1, D_NEXT | D_WRITE | (2 << 16)
1:      sw      t1, 28(a5)
        addi    t2, t0, BLK_STATUS - BLK_HEADER
        li      t1, 0xff
        sb      t1, 0(t2)
        sw      t2, 32(a5)              # descriptor 2: the status byte, written by the device
        sw      zero, 36(a5)
        li      t1, 1
        sw      t1, 40(a5)
        li      t1, D_WRITE
        sw      t1, 44(a5)
        addi    t1, a5, 16 * QSZ        # avail ring: flags, idx, ring[QSZ]
        lhu     t3, 2(t1)
        andi    t4, t3, QSZ - 1
        slli    t4, t4, 1
        add     t4, t1, t4
        sh      zero, 4(t4)             # chain head: descriptor 0
        fence   w, w                    # the entry before the index that publishes it
        addi    t3, t3, 1
        slli    t3, t3, 16              # the index is 16 bits wide
        srli    t3, t3, 16
        sh      t3, 2(t1)
        fence   w, o                    # the index before the notification
        lw      a3, BLK_BASE - BLK_HEADER(t0)
        sw      zero, R_QUEUE_NOTIFY(a3)
        li      t4, 4096
        add     t4, a5, t4              # used ring: flags, idx, ring[QSZ]
2:      fence   r, r
        lhu     t1, 2(t4)
        bne     t1, t3, 2b
        lw      t1, R_ISR(a3)           # acknowledge the interrupt the device raised
        sw      t1, R_ISR_ACK(a3)
        lbu     a0, 0(t2)
        ret
