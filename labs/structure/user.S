# user.S: the user program both kernels run, in U-mode, unchanged. It asks for file service through
# fs_request(a0 = op, a1..a4 = arguments) -> a0 (the operations of fs.S) and prints through
# sys_write(a0 = buffer, a1 = length); sys_exit(a0 = code) ends it. The kernel's own user library
# supplies the three: a system call in the monolithic kernel, a message to the file server in the
# microkernel. Every buffer the file service writes is in `ushare`, the page the microkernel shares
# between this program and its file server; names and text to write are read from this code region.
#
# user_main(a0 = reads, a1 = pings, a2 = calls), the counts of its three loops (boot options).

        .equ E_DEAD, -9                 # the microkernel's answer when the server died on the request
        .equ NAME_LEN, 24

user_main:
        la      sp, udata_top
        mv      s9, a0                  # s9: reads
        mv      s10, a1                 # s10: pings
        mv      s11, a2                 # s11: calls
        call    ls

        la      a0, u_hello             # create and write two files
        li      a1, 1
        call    uopen
        mv      s0, a0                  # s0: hello.txt's fd
        la      a1, u_hello_text
        la      a2, u_hello_end
        call    uwrite
        la      a0, u_notes
        li      a1, 1
        call    uopen
        mv      s1, a0                  # s1: notes.txt's fd
        la      a1, u_notes_1
        la      a2, u_notes_2
        call    uwrite
        mv      a0, s1
        la      a1, u_notes_2
        la      a2, u_notes_end
        call    uwrite

        la      a0, u_hello             # read them back
        mv      a1, s0
        call    cat
        la      a0, u_notes
        mv      a1, s1
        call    cat
        call    ls

        mv      s2, s11                 # a loop of procedure calls
1:      beqz    s2, 2f
        call    nothing
        addi    s2, s2, -1
        j       1b
2:      mv      a0, s11
        call    uputdec
        la      a0, u_calls
        call    uputs

        li      s3, 0                   # a loop of requests that do nothing
        mv      s2, s10
1:      beqz    s2, 2f
        li      a0, 0                   # OP_PING
        call    fs_request
        bnez    a0, 3f
        addi    s3, s3, 1
3:      addi    s2, s2, -1
        j       1b
2:      mv      a0, s10
        call    uputdec
        la      a0, u_pings
        call    uputs
        mv      a0, s3
        call    uputdec
        la      a0, u_ok
        call    uputs

        li      s3, 0                   # a loop of small reads: 4 bytes from notes.txt at offset 4i mod 32
        li      s4, 0                   # s4: failed reads, s5: the checksum, s6: i
        li      s5, 0
        li      s6, 0
1:      beq     s6, s9, 2f
        li      a0, 3                   # OP_READ
        mv      a1, s1
        andi    a2, s6, 7
        slli    a2, a2, 2
        la      a3, ushare
        li      a4, 4
        call    fs_request
        bgez    a0, 4f
        addi    s4, s4, 1               # a failed read
        li      t0, E_DEAD
        bne     a0, t0, 5f
        la      a0, u_dead              # the file server died serving it: its open files are
        call    uputs                   # gone, so open notes.txt again and go on
        la      a0, u_notes
        li      a1, 0
        call    uopen
        mv      s1, a0
        j       5f
4:      la      t0, ushare              # checksum = checksum * 31 + byte
        add     t1, t0, a0
3:      beq     t0, t1, 5f
        lbu     t2, 0(t0)
        slli    t3, s5, 5
        sub     s5, t3, s5
        add     s5, s5, t2
        addi    t0, t0, 1
        j       3b
5:      addi    s6, s6, 1
        j       1b
2:      mv      a0, s9
        call    uputdec
        la      a0, u_reads
        call    uputs
        mv      a0, s4
        call    uputdec
        la      a0, u_failed
        call    uputs
        mv      a0, s5
        call    uputhex
        la      a0, u_nl
        call    uputs

        mv      a0, s1                  # one more line in notes.txt, then both files again
        la      a1, u_notes_3
        la      a2, u_notes_end3
        call    uwrite
        la      a0, u_hello
        li      a1, 0
        call    uopen
        mv      a1, a0
        la      a0, u_hello
        call    cat
        la      a0, u_notes
        mv      a1, s1
        call    cat
        call    ls
        la      a0, u_done
        call    uputs
        li      a0, 0
        call    sys_exit

# nothing(): the procedure the call loop calls.
nothing:
        ret

# uopen(a0 = name, a1 = create) -> a0 = fd or error; prints "open NAME: fd N".
uopen:
        addi    sp, sp, -16
        sw      ra, 12(sp)
        sw      s0, 8(sp)
        sw      s1, 4(sp)
        mv      s0, a0
        mv      a2, a1
        mv      a1, a0
        li      a0, 1                   # OP_OPEN
        call    fs_request
        mv      s1, a0
        la      a0, u_open
        call    uputs
        mv      a0, s0
        call    uputs
        la      a0, u_fd
        call    uputs
        mv      a0, s1
        call    uputdec
        la      a0, u_nl
        call    uputs
        mv      a0, s1
        lw      s1, 4(sp)
        lw      s0, 8(sp)
        lw      ra, 12(sp)
        addi    sp, sp, 16
        ret

# uwrite(a0 = fd, a1 = text, a2 = its end): prints "write: N bytes".
uwrite:
        addi    sp, sp, -16
        sw      ra, 12(sp)
        sub     a3, a2, a1
        mv      a2, a1
        mv      a1, a0
        li      a0, 2                   # OP_WRITE
        call    fs_request
        sw      a0, 8(sp)
        la      a0, u_write
        call    uputs
        lw      a0, 8(sp)
        call    uputdec
        la      a0, u_bytes
        call    uputs
        lw      ra, 12(sp)
        addi    sp, sp, 16
        ret

# cat(a0 = name, a1 = fd): prints "read NAME: N bytes" and the bytes read from offset 0.
cat:
        addi    sp, sp, -16
        sw      ra, 12(sp)
        sw      s0, 8(sp)
        sw      s1, 4(sp)
        mv      s0, a0
        li      a0, 3                   # OP_READ
        li      a2, 0
        la      a3, ushare
        li      a4, 512
        call    fs_request
        mv      s1, a0
        la      a0, u_read
        call    uputs
        mv      a0, s0
        call    uputs
        la      a0, u_colon
        call    uputs
        mv      a0, s1
        call    uputdec
        la      a0, u_bytes
        call    uputs
        blez    s1, 1f
        la      a0, ushare
        mv      a1, s1
        call    sys_write
1:      lw      s1, 4(sp)
        lw      s0, 8(sp)
        lw      ra, 12(sp)
        addi    sp, sp, 16
        ret

# ls(): one line per file: "  NAME SIZE", or "  (no files)".
ls:
        addi    sp, sp, -16
        sw      ra, 12(sp)
        sw      s0, 8(sp)
        sw      s1, 4(sp)
        la      a0, u_disk
        call    uputs
        li      s0, 0                   # s0: the entry, s1: files listed
        li      s1, 0
1:      li      a0, 4                   # OP_LIST
        mv      a1, s0
        la      a2, ushare
        call    fs_request
        li      t0, -3                  # past the last entry
        beq     a0, t0, 3f
        bltz    a0, 2f
        sw      a0, 0(sp)
        addi    s1, s1, 1
        la      a0, u_indent
        call    uputs
        la      a0, ushare
        sb      zero, NAME_LEN - 1(a0)
        call    uputs
        li      a0, ' '
        call    uputc
        lw      a0, 0(sp)
        call    uputdec
        la      a0, u_nl
        call    uputs
2:      addi    s0, s0, 1
        j       1b
3:      bnez    s1, 4f
        la      a0, u_none
        call    uputs
4:      lw      s1, 4(sp)
        lw      s0, 8(sp)
        lw      ra, 12(sp)
        addi    sp, sp, 16
        ret

# uputs(a0 = string)
uputs:
        mv      a1, a0
1:      lbu     t0, 0(a1)
        beqz    t0, 2f
        addi    a1, a1, 1
        j       1b
2:      sub     a1, a1, a0
        tail    sys_write

# uputc(a0 = byte)
uputc:
        addi    sp, sp, -16
        sw      ra, 12(sp)
        sb      a0, 0(sp)
        mv      a0, sp
        li      a1, 1
        call    sys_write
        lw      ra, 12(sp)
        addi    sp, sp, 16
        ret

# uputdec(a0): a signed decimal number.
uputdec:
        addi    sp, sp, -32
        sw      ra, 28(sp)
        addi    a1, sp, 24              # digits grow down from sp + 24
        li      t2, 0                   # t2: the sign
        bgez    a0, 1f
        neg     a0, a0
        li      t2, 1
1:      li      t1, 10
2:      remu    t0, a0, t1
        addi    t0, t0, '0'
        addi    a1, a1, -1
        sb      t0, 0(a1)
        divu    a0, a0, t1
        bnez    a0, 2b
        beqz    t2, 3f
        li      t0, '-'
        addi    a1, a1, -1
        sb      t0, 0(a1)
3:      mv      a0, a1
        addi    a1, sp, 24
        sub     a1, a1, a0
        call    sys_write
        lw      ra, 28(sp)
        addi    sp, sp, 32
        ret

# uputhex(a0): "0x" and eight hex digits.
uputhex:
        addi    sp, sp, -32
        sw      ra, 28(sp)
        li      t0, '0'
        sb      t0, 0(sp)
        li      t0, 'x'
        sb      t0, 1(sp)
        addi    a1, sp, 9
1:      andi    t0, a0, 15
        li      t1, 10
        blt     t0, t1, 2f
        addi    t0, t0, 'a' - '0' - 10
2:      addi    t0, t0, '0'
        sb      t0, 0(a1)
        srli    a0, a0, 4
        addi    a1, a1, -1
        addi    t1, sp, 1
        bne     a1, t1, 1b
        mv      a0, sp
        li      a1, 10
        call    sys_write
        lw      ra, 28(sp)
        addi    sp, sp, 32
        ret

u_disk:         .asciz "files on the disk:\n"
u_none:         .asciz "  (no files)\n"
u_indent:       .asciz "  "
u_hello:        .asciz "hello.txt"
u_notes:        .asciz "notes.txt"
u_open:         .asciz "open "
u_fd:           .asciz ": fd "
u_write:        .asciz "write: "
u_read:         .asciz "read "
u_colon:        .asciz ": "
u_bytes:        .asciz " bytes\n"
u_nl:           .asciz "\n"
u_calls:        .asciz " procedure calls\n"
u_pings:        .asciz " null requests: "
u_ok:           .asciz " answered\n"
u_reads:        .asciz " reads of 4 bytes: "
u_failed:       .asciz " failed, checksum "
u_dead:         .asciz "the file server died on a read: open notes.txt again\n"
u_done:         .asciz "done\n"
u_hello_text:   .ascii "Hello from the file system!\n"
u_hello_end:
u_notes_1:      .ascii "Monolithic or micro?\n"
u_notes_2:      .ascii "Same answers, other costs.\n"
u_notes_end:
u_notes_3:      .ascii "Checked after the reads.\n"
u_notes_end3:
        .balign 4
