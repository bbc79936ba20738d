# paging-pv.S: paging.S made para-virtual, for `--mode pv`. The VMM's SBI boots the kernel in S-mode
# at 0x80400000 (no M-mode code). Its page tables become read-only to it once installed, so the
# identity megapage over RAM's first 4 MiB, where the tables are, is mapped without W, and the kernel
# itself gets a megapage of its own at 0x80400000. set_root installs the root (the VMM validates the
# whole table first) instead of csrw satp; at the end, set_root(0) turns paging off and the kernel
# reads the frames by their guest-physical addresses itself, where paging.S asked M-mode to.
#
# paging.S: an S-mode kernel builds the lecture's Sv32 mapping and uses it.
#
#   virtual page 0x1 -> guest-physical page RAM+0xA2   (VA 0x00001000 -> GPA 0x800a2000)
#   virtual page 0x2 -> guest-physical page RAM+0xA3   (VA 0x00002000 -> GPA 0x800a3000)
#
# Page numbers are counted from the start of RAM (0x80000000). The root table lives in guest page
# RAM+0xA1 (0x800a1000), the second-level table the two small pages need in RAM+0xA0 (0x800a0000).
# Identity megapages map the kernel (RAM's first 4 MiB) and the UART. The kernel writes through
# the virtual addresses, reads the values back through the identity mapping, touches an unmapped
# page, and finally asks M-mode (ecall) to read the same frames with paging off and stop the machine.

        .equ UART, 0x10000000           # ns16550a: THR at +0, LSR at +5
        .equ LSR_THRE, 0x20             # LSR: the transmitter can take a byte
        .equ FINISHER, 0x100000         # SiFive test finisher
        .equ FINISH_PASS, 0x5555
        .equ FINISH_FAIL, 0x3333        # (code << 16) | 0x3333

        .equ RAM, 0x80000000
        .equ L0_TABLE, RAM + 0xA0 * 4096        # second-level table: 0x800a0000
        .equ ROOT, RAM + 0xA1 * 4096            # root table: 0x800a1000
        .equ FRAME_1, RAM + 0xA2 * 4096         # what virtual page 0x1 maps to: 0x800a2000
        .equ FRAME_2, RAM + 0xA3 * 4096         # what virtual page 0x2 maps to: 0x800a3000
        .equ VA_1, 0x1000
        .equ VA_2, 0x2000
        .equ VA_UNMAPPED, 0x3000

        .equ PTE_V, 0x01                # Sv32 PTE bits
        .equ PTE_R, 0x02
        .equ PTE_W, 0x04
        .equ PTE_X, 0x08
        .equ PTE_A, 0x40
        .equ PTE_D, 0x80
        .equ DATA, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D        # A and D preset: no A/D updates
        .equ CODE, DATA | PTE_X
        .equ SATP_SV32, 0x80000000

        .equ CAUSE_ECALL_S, 9
        .equ CAUSE_LOAD_PAGE_FAULT, 13

        .equ KERNEL, 0x80400000         # where a pv VM's kernel starts
        .equ RAM_RO, PTE_V | PTE_R | PTE_X | PTE_A | PTE_D       # the tables' megapage: no W
        .equ PV, 0x08564D4C             # vmlab's PV extension of the SBI
        .equ PV_SET_ROOT, 1

        .text
        .globl _start
# ---------------------------------------------------------------------------------- S-mode kernel
_start:
s_kernel:
        la      sp, s_stack_top
        la      t0, s_trap
        csrw    stvec, t0
        la      a0, msg_s_start
        call    puts

        li      a0, L0_TABLE            # both tables start empty (every PTE invalid)
        call    zero_page
        li      a0, ROOT
        call    zero_page

        li      s0, ROOT
        li      t0, (L0_TABLE >> 12) << 10 | PTE_V      # root[0]: VAs 0-4 MiB use the L0 table
        sw      t0, 0(s0)
        li      t0, (UART >> 12) << 10 | DATA           # root[0x40]: megapage 0x10000000 (UART)
        sw      t0, 0x40 * 4(s0)
        li      t0, (RAM >> 12) << 10 | RAM_RO          # root[0x200]: megapage 0x80000000 (tables), no W
        li      t1, ROOT + 0x200 * 4
        sw      t0, 0(t1)
        li      t0, (KERNEL >> 12) << 10 | CODE         # root[0x201]: megapage 0x80400000 (kernel)
        li      t1, ROOT + 0x201 * 4
        sw      t0, 0(t1)
        li      s1, L0_TABLE
        li      t0, (FRAME_1 >> 12) << 10 | DATA        # leaf[1]: VA 0x1000 -> 0x800a2000
        sw      t0, 1 * 4(s1)
        li      t0, (FRAME_2 >> 12) << 10 | DATA        # leaf[2]: VA 0x2000 -> 0x800a3000
        sw      t0, 2 * 4(s1)

        la      a0, msg_s_root
        call    puts
        la      a0, msg_s_root0
        lw      a1, 0(s0)
        call    put_pte
        la      a0, msg_s_root40
        lw      a1, 0x40 * 4(s0)
        call    put_pte
        la      a0, msg_s_root200
        li      t1, ROOT + 0x200 * 4
        lw      a1, 0(t1)
        call    put_pte
        la      a0, msg_s_root201
        li      t1, ROOT + 0x201 * 4
        lw      a1, 0(t1)
        call    put_pte
        la      a0, msg_s_leaf1
        lw      a1, 1 * 4(s1)
        call    put_pte
        la      a0, msg_s_leaf2
        lw      a1, 2 * 4(s1)
        call    put_pte

        li      a0, SATP_SV32 | (ROOT >> 12)            # paging on through the VMM, which validates
        li      a6, PV_SET_ROOT
        li      a7, PV
        ecall
        la      a0, msg_s_satp
        call    puts
        csrr    a0, satp
        call    puthex
        call    newline

        li      t0, VA_1                # write through the new virtual addresses
        li      t1, 0xcafe0001
        sw      t1, 0(t0)
        li      t0, VA_2
        li      t1, 0xcafe0002
        sw      t1, 0(t0)
        la      a0, msg_s_wrote
        call    puts

        la      a0, msg_s_read_va
        call    puts
        li      t0, VA_1
        lw      a0, 0(t0)
        call    puthex
        la      a0, msg_s_and
        call    puts
        li      t0, VA_2
        lw      a0, 0(t0)
        call    puthex
        call    newline

        la      a0, msg_s_read_id       # the same frames through the identity megapage
        call    puts
        li      t0, FRAME_1
        lw      a0, 0(t0)
        call    puthex
        la      a0, msg_s_and
        call    puts
        li      t0, FRAME_2
        lw      a0, 0(t0)
        call    puthex
        call    newline

        la      a0, msg_s_touch
        call    puts
        li      a0, -1
        li      t0, VA_UNMAPPED         # leaf[3] is invalid: a load page fault (s_trap skips it)
        .option push
        .option norvc
        lw      a0, 0(t0)
        .option pop
        la      a0, msg_s_survived
        call    puts

        li      a0, 0                   # done: paging off, then the frames by their physical addresses
        li      a6, PV_SET_ROOT
        li      a7, PV
        ecall
        la      a0, msg_s_off
        call    puts
        la      a0, msg_s_frame1
        call    puts
        li      t0, FRAME_1
        lw      a0, 0(t0)
        call    puthex
        la      a0, msg_s_frame2
        call    puts
        li      t0, FRAME_2
        lw      a0, 0(t0)
        call    puthex
        call    newline
        li      t0, FINISHER
        li      t1, FINISH_PASS
        sw      t1, 0(t0)
1:      j       1b

# S-mode trap handler: reports the trap and skips the faulting (4-byte) instruction.
        .align  2
s_trap:
        la      a0, msg_s_trap
        call    puts
        csrr    a0, scause
        call    puthex
        la      a0, msg_stval
        call    puts
        csrr    a0, stval
        call    puthex
        call    newline
        csrr    t0, sepc
        addi    t0, t0, 4
        csrw    sepc, t0
        sret

# zero_page(a0): clears the 4 KiB page at a0.
zero_page:
        li      t0, 4096
        add     t0, t0, a0
1:      sw      zero, 0(a0)
        addi    a0, a0, 4
        bne     a0, t0, 1b
        ret

# put_pte(a0 = label, a1 = PTE): prints the label and the PTE in hex, then a newline.
put_pte:
        addi    sp, sp, -8
        sw      ra, 4(sp)
        sw      a1, 0(sp)
        call    puts
        lw      a0, 0(sp)
        call    puthex
        call    newline
        lw      ra, 4(sp)
        addi    sp, sp, 8
        ret

# ---------------------------------------------------------------------------------- library
# putc(a0): waits until the transmitter is free, then sends one byte. Keeps a0 and t2.
putc:
        li      t0, UART
1:      lbu     t1, 5(t0)
        andi    t1, t1, LSR_THRE
        beqz    t1, 1b
        sb      a0, 0(t0)
        ret

# puts(a0): sends a NUL-terminated string.
puts:
        addi    sp, sp, -8
        sw      ra, 4(sp)
        sw      s1, 0(sp)
        mv      s1, a0
1:      lbu     a0, 0(s1)
        beqz    a0, 2f
        call    putc
        addi    s1, s1, 1
        j       1b
2:      lw      s1, 0(sp)
        lw      ra, 4(sp)
        addi    sp, sp, 8
        ret

# newline(): sends "\n".
newline:
        li      a0, '\n'
        j       putc

# puthex(a0): sends a0 as 0x followed by eight hex digits.
puthex:
        addi    sp, sp, -12
        sw      ra, 8(sp)
        sw      s1, 4(sp)
        sw      s0, 0(sp)
        mv      s1, a0
        li      a0, '0'
        call    putc
        li      a0, 'x'
        call    putc
        li      s0, 28
1:      srl     a0, s1, s0
        andi    a0, a0, 15
        li      t0, 10
        blt     a0, t0, 2f
        addi    a0, a0, 'a' - 10 - '0'
2:      addi    a0, a0, '0'
        call    putc
        addi    s0, s0, -4
        bgez    s0, 1b
        lw      s0, 0(sp)
        lw      s1, 4(sp)
        lw      ra, 8(sp)
        addi    sp, sp, 12
        ret

# putdec(a0): sends a0 as a signed decimal number.
putdec:
        addi    sp, sp, -24
        sw      ra, 20(sp)
        sw      s1, 16(sp)
        mv      s1, a0
        bgez    s1, 1f
        li      a0, '-'
        call    putc
        neg     s1, s1
1:      addi    t2, sp, 15              # digits are built backwards in a buffer on the stack
        sb      zero, 0(t2)
        li      t0, 10
2:      remu    t1, s1, t0
        divu    s1, s1, t0
        addi    t1, t1, '0'
        addi    t2, t2, -1
        sb      t1, 0(t2)
        bnez    s1, 2b
        mv      a0, t2
        call    puts
        lw      s1, 16(sp)
        lw      ra, 20(sp)
        addi    sp, sp, 24
        ret


        .section .rodata
msg_s_off:      .asciz "[S] set_root(0): paging off, so these are physical reads\n"
msg_s_frame1:   .asciz "[S] 0x800a2000 holds "
msg_s_frame2:   .asciz ", 0x800a3000 holds "
msg_s_start:    .asciz "[S] kernel started; building the page table\n"
msg_s_root:     .asciz "[S] root table at 0x800a1000 (guest page RAM+0xa1)\n"
msg_s_root0:    .asciz "[S]   root[0x000] (VA 0x00000000-0x003fffff: table at 0x800a0000) = "
msg_s_root40:   .asciz "[S]   root[0x040] (VA 0x10000000 megapage, UART, identity)      = "
msg_s_root200:  .asciz "[S]   root[0x200] (VA 0x80000000 megapage, tables, read-only)   = "
msg_s_root201:  .asciz "[S]   root[0x201] (VA 0x80400000 megapage, kernel, identity)    = "
msg_s_leaf1:    .asciz "[S]   leaf[0x001] (VA 0x00001000 -> 0x800a2000, page RAM+0xa2)  = "
msg_s_leaf2:    .asciz "[S]   leaf[0x002] (VA 0x00002000 -> 0x800a3000, page RAM+0xa3)  = "
msg_s_satp:     .asciz "[S] paging on: satp = "
msg_s_wrote:    .asciz "[S] wrote 0xcafe0001 to VA 0x00001000 and 0xcafe0002 to VA 0x00002000\n"
msg_s_read_va:  .asciz "[S] read back through VA 0x00001000 and 0x00002000: "
msg_s_read_id:  .asciz "[S] read through the identity map at 0x800a2000 and 0x800a3000: "
msg_s_and:      .asciz " and "
msg_s_touch:    .asciz "[S] loading from VA 0x00003000, which no PTE maps\n"
msg_s_trap:     .asciz "[S] trap: scause = "
msg_stval:      .asciz ", stval = "
msg_s_survived: .asciz "[S] skipped the faulting load\n"

        .bss
        .align  4
s_stack:        .space 1024
s_stack_top:
