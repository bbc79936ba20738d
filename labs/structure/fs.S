# fs.S: the file service both kernels share: a tiny file system on the virtio-blk disk. The
# monolithic kernel calls fs_serve from its system-call handler (a procedure call); the
# microkernel's file-server process calls it for every message it receives (IPC). It reaches the
# disk only through blk_rw(a0 = sector, a1 = buffer, a2 = 0 read / 1 write) -> a0 = 0 or an error,
# which the including file supplies: the driver itself, or a message to the driver process. Its
# state lives at `fs_data` (FS_SIZE bytes, word-aligned), placed by the including file.
#
# On the disk (512-byte sectors): sector 0 holds the magic "VMFS" and a directory of 8 entries of
# 32 bytes from byte 32 (name: up to 23 bytes and a NUL; size: a word at +24). File i keeps its
# bytes in sector 1 + i, so a file holds at most 512 bytes. A disk without the magic is formatted.
#
#   fs_serve(a0 = op, a1..a4 = arguments) -> a0 = result, a negative number for an error:
#   op 0  ping()                                    0: a request that does nothing
#   op 1  open(name, create)                        fd; create empties an existing file
#   op 2  write(fd, buffer, length)                 length: appends to the file
#   op 3  read(fd, offset, buffer, length)          bytes read (0 at the end of the file)
#   op 4  list(index, buffer)                       size, and the name copied to the buffer;
#                                                   -1 for an empty entry, -3 past the last one
#
# The scribble switch: fs_init's seed, when not 0, makes the service's scribble bug fire while it
# serves its SCRIBBLE_AT-th read: SCRIBBLE_WRITES random bytes to random addresses between
# scribble_lo and scribble_hi (the including file sets both: the whole kernel image).

        .equ OP_PING, 0
        .equ OP_OPEN, 1
        .equ OP_WRITE, 2
        .equ OP_READ, 3
        .equ OP_LIST, 4
        .equ E_NOENT, -1                # no such file (and: an empty directory entry)
        .equ E_BADF, -2                 # fd not open
        .equ E_END, -3                  # past the directory's last entry
        .equ E_FULL, -4                 # no free directory entry or fd
        .equ E_FBIG, -6                 # a file holds at most 512 bytes
        .equ E_IO, -7                   # the disk failed
        .equ E_OP, -8                   # no such operation

        .equ FS_MAGIC, 0x53464d56       # "VMFS" little-endian
        .equ FS_ENTRIES, 8
        .equ FS_NAME_MAX, 24            # with the NUL
        .equ NFD, 8

        # fs_data layout
        .equ FS_DIR, 0                  # sector 0
        .equ FS_BUF, 512                # the one cached data sector
        .equ FS_BUF_SECTOR, 1024        # its number, -1 for none
        .equ FS_OPEN, 1028              # NFD words: directory index + 1, 0 = free
        .equ FS_SEED, 1060
        .equ FS_READS, 1064
        .equ FS_SIZE, 1072

        .equ SCRIBBLE_AT, 5
        .equ SCRIBBLE_WRITES, 64
        .equ LCG_A, 1664525             # x' = A * x + C mod 2^32 (as labs/scribble)
        .equ LCG_C, 1013904223

# fs_init(a0 = scribble seed) -> a0 = 0 or E_IO: forgets every open file and the cache, reads the
# directory, formats the disk when it has none.
fs_init:
        addi    sp, sp, -16
        sw      ra, 12(sp)
        sw      s0, 8(sp)
        la      s0, fs_data
        sw      a0, FS_SEED(s0)
        sw      zero, FS_READS(s0)
        li      t0, -1
        sw      t0, FS_BUF_SECTOR(s0)
        addi    t0, s0, FS_OPEN
        addi    t1, t0, 4 * NFD
1:      sw      zero, 0(t0)
        addi    t0, t0, 4
        bne     t0, t1, 1b
        li      a0, 0
        addi    a1, s0, FS_DIR
        li      a2, 0
        call    blk_rw
        bnez    a0, 8f
        lw      t0, FS_DIR(s0)
        li      t1, FS_MAGIC
        beq     t0, t1, 9f
        addi    t0, s0, FS_DIR          # a fresh disk: an empty directory
        addi    t2, t0, 512
2:      sw      zero, 0(t0)
        addi    t0, t0, 4
        bne     t0, t2, 2b
        sw      t1, FS_DIR(s0)
        call    dir_write
        bnez    a0, 8f
        j       9f
8:      li      a0, E_IO
9:      lw      s0, 8(sp)
        lw      ra, 12(sp)
        addi    sp, sp, 16
        ret

fs_serve:
        li      t0, OP_PING
        beq     a0, t0, fs_ping
        li      t0, OP_OPEN
        beq     a0, t0, fs_open
        li      t0, OP_WRITE
        beq     a0, t0, fs_write
        li      t0, OP_READ
        beq     a0, t0, fs_read
        li      t0, OP_LIST
        beq     a0, t0, fs_list
        li      a0, E_OP
        ret

fs_ping:
        li      a0, 0
        ret

# dir_write() -> a0: writes the directory back to sector 0.
dir_write:
        li      a0, 0
        la      a1, fs_data
        addi    a1, a1, FS_DIR
        li      a2, 1
        tail    blk_rw

# entry(a0 = fd) -> a0 = the directory entry's address, or 0 when fd is not open. Leaf.
entry:
        li      t0, NFD
        bgeu    a0, t0, 1f
        la      t1, fs_data
        slli    t0, a0, 2
        add     t0, t1, t0
        lw      t0, FS_OPEN(t0)
        beqz    t0, 1f
        slli    t0, t0, 5               # (index + 1) * 32: the entry, after the 32-byte header
        add     a0, t1, t0
        ret
1:      li      a0, 0
        ret

# load(a0 = directory entry) -> a0 = 0 or E_IO: the entry's data sector in FS_BUF.
load:
        la      a1, fs_data
        sub     a0, a0, a1
        srli    a0, a0, 5               # index + 1: the sector
        lw      t0, FS_BUF_SECTOR(a1)
        bne     t0, a0, 1f
        li      a0, 0
        ret
1:      addi    sp, sp, -16
        sw      ra, 12(sp)
        sw      s0, 8(sp)
        mv      s0, a0
        li      t0, -1
        sw      t0, FS_BUF_SECTOR(a1)
        addi    a1, a1, FS_BUF
        li      a2, 0
        call    blk_rw
        bnez    a0, 2f
        la      a1, fs_data
        sw      s0, FS_BUF_SECTOR(a1)
        j       3f
2:      li      a0, E_IO
3:      lw      s0, 8(sp)
        lw      ra, 12(sp)
        addi    sp, sp, 16
        ret

# open(a1 = name, a2 = create)
fs_open:
        addi    sp, sp, -32
        sw      ra, 28(sp)
        sw      s0, 24(sp)
        sw      s1, 20(sp)
        sw      s2, 16(sp)
        sw      s3, 12(sp)
        mv      s0, a1
        mv      s3, a2
        la      s1, fs_data
        addi    s1, s1, FS_DIR + 32     # s1: entry 0
        li      s2, 0                   # s2: the first free entry, 0 for none yet
        li      t3, FS_ENTRIES
1:      lbu     t0, 0(s1)
        bnez    t0, 2f
        bnez    s2, 4f
        mv      s2, s1
        j       4f
2:      mv      t1, s0                  # compare the names
        mv      t2, s1
3:      lbu     t0, 0(t1)
        lbu     t4, 0(t2)
        bne     t0, t4, 4f
        addi    t1, t1, 1
        addi    t2, t2, 1
        bnez    t0, 3b
        beqz    s3, 7f                  # found it
        sw      zero, FS_NAME_MAX(s1)   # create: empty it
        j       6f
4:      addi    s1, s1, 32
        addi    t3, t3, -1
        bnez    t3, 1b
        li      a0, E_NOENT             # not found
        beqz    s3, 9f
        li      a0, E_FULL
        beqz    s2, 9f
        mv      s1, s2                  # a new file in the first free entry
        mv      t1, s0
        li      t3, FS_NAME_MAX - 1
5:      lbu     t0, 0(t1)
        sb      t0, 0(s2)
        beqz    t0, 51f
        addi    t1, t1, 1
        addi    s2, s2, 1
        addi    t3, t3, -1
        bnez    t3, 5b
        sb      zero, 0(s2)
51:     sw      zero, FS_NAME_MAX(s1)
6:      call    dir_write
        bnez    a0, 8f
7:      la      t0, fs_data             # a free fd
        addi    t1, t0, FS_OPEN
        li      a0, 0
        li      t3, NFD
71:     lw      t2, 0(t1)
        beqz    t2, 72f
        addi    t1, t1, 4
        addi    a0, a0, 1
        bne     a0, t3, 71b
        li      a0, E_FULL
        j       9f
72:     sub     t2, s1, t0
        srli    t2, t2, 5               # index + 1
        sw      t2, 0(t1)
        j       9f
8:      li      a0, E_IO
9:      lw      s3, 12(sp)
        lw      s2, 16(sp)
        lw      s1, 20(sp)
        lw      s0, 24(sp)
        lw      ra, 28(sp)
        addi    sp, sp, 32
        ret

# write(a1 = fd, a2 = buffer, a3 = length): appends.
fs_write:
        addi    sp, sp, -32
        sw      ra, 28(sp)
        sw      s0, 24(sp)
        sw      s1, 20(sp)
        sw      s2, 16(sp)
        mv      s1, a2
        mv      s2, a3
        mv      a0, a1
        call    entry
        mv      s0, a0
        li      a0, E_BADF
        beqz    s0, 9f
        lw      t0, FS_NAME_MAX(s0)
        add     t0, t0, s2
        li      t1, 512
        li      a0, E_FBIG
        bgtu    t0, t1, 9f
        mv      a0, s0
        call    load
        bnez    a0, 9f
        la      t0, fs_data             # copy after the file's last byte
        addi    t0, t0, FS_BUF
        lw      t1, FS_NAME_MAX(s0)
        add     t0, t0, t1
        mv      t1, s1
        add     t2, s1, s2
1:      beq     t1, t2, 2f
        lbu     t3, 0(t1)
        sb      t3, 0(t0)
        addi    t1, t1, 1
        addi    t0, t0, 1
        j       1b
2:      la      t0, fs_data
        lw      a0, FS_BUF_SECTOR(t0)
        addi    a1, t0, FS_BUF
        li      a2, 1
        call    blk_rw
        bnez    a0, 8f
        lw      t0, FS_NAME_MAX(s0)
        add     t0, t0, s2
        sw      t0, FS_NAME_MAX(s0)
        call    dir_write
        bnez    a0, 8f
        mv      a0, s2
        j       9f
8:      li      a0, E_IO
9:      lw      s2, 16(sp)
        lw      s1, 20(sp)
        lw      s0, 24(sp)
        lw      ra, 28(sp)
        addi    sp, sp, 32
        ret

# read(a1 = fd, a2 = offset, a3 = buffer, a4 = length)
fs_read:
        addi    sp, sp, -32
        sw      ra, 28(sp)
        sw      s0, 24(sp)
        sw      s1, 20(sp)
        sw      s2, 16(sp)
        sw      s3, 12(sp)
        mv      s1, a2
        mv      s2, a3
        mv      s3, a4
        la      t0, fs_data             # count the reads; the scribble bug fires at one of them
        lw      t1, FS_READS(t0)
        addi    t1, t1, 1
        sw      t1, FS_READS(t0)
        li      t2, SCRIBBLE_AT
        bne     t1, t2, 1f
        lw      a0, FS_SEED(t0)
        beqz    a0, 1f
        mv      s0, a1
        call    scribble
        mv      a1, s0
1:      mv      a0, a1
        call    entry
        mv      s0, a0
        li      a0, E_BADF
        beqz    s0, 9f
        lw      t0, FS_NAME_MAX(s0)     # length = min(length, size - offset), at least 0
        sub     t0, t0, s1
        bgtz    t0, 2f
        li      a0, 0
        j       9f
2:      bleu    s3, t0, 3f
        mv      s3, t0
3:      mv      a0, s0
        call    load
        bnez    a0, 9f
        la      t0, fs_data
        addi    t0, t0, FS_BUF
        add     t0, t0, s1
        mv      t1, s2
        add     t2, s2, s3
4:      beq     t1, t2, 5f
        lbu     t3, 0(t0)
        sb      t3, 0(t1)
        addi    t0, t0, 1
        addi    t1, t1, 1
        j       4b
5:      mv      a0, s3
9:      lw      s3, 12(sp)
        lw      s2, 16(sp)
        lw      s1, 20(sp)
        lw      s0, 24(sp)
        lw      ra, 28(sp)
        addi    sp, sp, 32
        ret

# list(a1 = index, a2 = buffer of FS_NAME_MAX bytes). Leaf.
fs_list:
        li      t0, FS_ENTRIES
        li      a0, E_END
        bgeu    a1, t0, 2f
        la      t0, fs_data
        slli    t1, a1, 5
        add     t0, t0, t1
        addi    t0, t0, FS_DIR + 32
        lbu     t1, 0(t0)
        li      a0, E_NOENT
        beqz    t1, 2f
        li      t2, FS_NAME_MAX
1:      lbu     t1, 0(t0)
        sb      t1, 0(a2)
        addi    t0, t0, 1
        addi    a2, a2, 1
        addi    t2, t2, -1
        bnez    t2, 1b
        lw      a0, 0(t0)               # the size follows the name
2:      ret

# scribble(a0 = seed): the bug. Leaf: t0-t4, a0-a2.
scribble:
        la      t0, scribble_lo
        la      t1, scribble_hi
        sub     t1, t1, t0              # the span
        li      t2, SCRIBBLE_WRITES
        li      t3, LCG_A
        li      a1, LCG_C
1:      mul     a0, a0, t3
        add     a0, a0, a1
        srli    t4, a0, 8
        remu    t4, t4, t1
        add     t4, t4, t0              # a random address
        mul     a0, a0, t3
        add     a0, a0, a1
        srli    a2, a0, 24
        sb      a2, 0(t4)               # a random byte
        addi    t2, t2, -1
        bnez    t2, 1b
        ret
