# Fill workload: an S-mode kernel with paging still off frees every page of RAM above its image
# as an operating system's boot does (xv6's kinit: freerange calls kfree on each 4 KiB page, which
# fills it with a byte loop and pushes it on a free list under a spinlock with interrupts masked),
# then counts the free list. Prints the page count.
.include "runtime.inc"

.equ FILL_END, 0x82800000

.text
main:
  GOTO_MODE 1, kinit

kinit:
  la s0, fill_start
  li t0, 4095
  add s0, s0, t0
  srli s0, s0, 12
  slli s0, s0, 12
  li s1, FILL_END
1:
  mv a0, s0
  call kfree
  li t0, 4096
  add s0, s0, t0
  bltu s0, s1, 1b
  # Count the free list.
  li s1, 0
  la t0, freelist
  lw t0, 0(t0)
2:
  beqz t0, 3f
  addi s1, s1, 1
  lw t0, 0(t0)
  j 2b
3:
  PR "free pages", s1
  li a0, 0
  li a7, SYS_EXIT
  ecall

# kfree(pa): junk-fill the page, then push it on the free list.
kfree:
  addi sp, sp, -16
  sw ra, 12(sp)
  sw s0, 8(sp)
  mv s0, a0
  li a1, 1
  li a2, 4096
  call memset
  call acquire
  la t0, freelist
  lw t1, 0(t0)
  sw t1, 0(s0)
  sw s0, 0(t0)
  call release
  lw ra, 12(sp)
  lw s0, 8(sp)
  addi sp, sp, 16
  ret

# memset(dst, c, n): the byte loop of xv6's string.c as gcc -O2 emits it.
memset:
  beqz a2, 2f
  mv a5, a0
  add a4, a0, a2
  andi a1, a1, 0xff
1:
  sb a1, 0(a5)
  addi a5, a5, 1
  bne a5, a4, 1b
2:
  ret

# acquire/release: push_off (sstatus.SIE saved and cleared) and an amoswap spinlock.
acquire:
  csrr t0, sstatus
  csrci sstatus, MSTATUS_SIE
  la t1, noff
  lw t2, 0(t1)
  bnez t2, 1f
  andi t0, t0, MSTATUS_SIE
  la t3, intena
  sw t0, 0(t3)
1:
  addi t2, t2, 1
  sw t2, 0(t1)
  la t0, lock
  li t1, 1
2:
  amoswap.w.aq t2, t1, (t0)
  bnez t2, 2b
  fence
  ret
release:
  fence
  la t0, lock
  amoswap.w.rl zero, zero, (t0)
  la t1, noff
  lw t2, 0(t1)
  addi t2, t2, -1
  sw t2, 0(t1)
  bnez t2, 1f
  la t3, intena
  lw t0, 0(t3)
  beqz t0, 1f
  csrsi sstatus, MSTATUS_SIE
1:
  ret

.data
.balign 4
freelist: .word 0
lock: .word 0
noff: .word 0
intena: .word 0

.bss
.balign 4096
fill_start:
