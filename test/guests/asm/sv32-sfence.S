# sfence.vma after page-table changes: a page remapped, unmapped, made read-only, writable again and
# not executable, each followed by a fence of that page; a level-1 entry pointed at another table and
# a fence of everything; a table rewritten through an alias of itself; a data page (written through a
# writable mapping) turned into a level-1 table; fences of one ASID with and without an address, in a
# second address space; a global page; a user page remapped by M-mode. Every load is made only after
# the fence the privileged spec requires, so each must see the new entry (and its fault).
.include "runtime.inc"

.equ VA, 0x40000000
.equ VA_X, VA + 0x1000
.equ VA_ALIAS, VA + 0x2000
.equ VA_P, VA + 0x3000
.equ VA_G, VA + 0x4000
.equ VA_U, VA + 0x5000
.equ VA2, 0x40400000
.equ ASID, 5
.equ PTE_RW_AD, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D

# Maps va to frame with flags in level-1 table l1tab.
.macro MAP l1tab, va, frame, flags
  la a0, \l1tab
  li a1, \va
  la a2, \frame
  li a3, \flags
  call pt_4k
.endm

# Loads from va (a trap is reported by the M hook and skipped).
.macro LD name, va
  PUTS "\name: "
  li t0, \va
  lw s1, 0(t0)
  PR "load", s1
.endm

# Stores value to va.
.macro ST name, va, value
  PUTS "\name: "
  li t0, \va
  li t1, \value
  sw t1, 0(t0)
  PUTS "store done\n"
.endm

.text
main:
  SET_MHOOK mhook_report_skip
  la a0, root_s
  li a1, 4096 * 10
  call memzero
  la a0, root_s
  li a3, PTE_RWX_AD
  call pt_identity
  la a0, root_2
  li a3, PTE_RWX_AD
  call pt_identity
  la a0, root_u
  li a3, PTE_RWX_AD | PTE_U
  call pt_identity
  la a0, root_s
  li a1, VA
  la a2, l1
  call pt_link
  la a0, root_2
  li a1, VA
  la a2, l1c
  call pt_link
  la a0, root_u
  li a1, VA
  la a2, l1
  call pt_link
  la t0, data_a
  li t1, 0xaaaa0001
  sw t1, 0(t0)
  la t0, data_b
  li t1, 0xbbbb0002
  sw t1, 0(t0)
  la t0, data_c
  li t1, 0xcccc0003
  sw t1, 0(t0)
  MAP l1, VA, data_a, PTE_RW_AD
  MAP l1, VA_X, code_page, PTE_V | PTE_R | PTE_X | PTE_A
  MAP l1, VA_ALIAS, l1, PTE_RW_AD
  MAP l1, VA_P, page_p, PTE_RW_AD
  MAP l1, VA_G, data_a, PTE_RW_AD | PTE_G
  MAP l1, VA_U, data_a, PTE_RW_AD | PTE_U
  MAP l1b, VA, data_c, PTE_RW_AD
  MAP l1c, VA, data_a, PTE_RW_AD
  la a0, root_s
  call satp_on
  GOTO_MODE 1, in_s

in_s:
  PUTS "== one page\n"
  LD first, VA
  MAP l1, VA, data_b, PTE_RW_AD
  li t0, VA
  sfence.vma t0, zero
  LD remapped, VA
  la a0, l1
  li a1, VA
  li a2, 0
  li a3, 0
  call pt_4k
  li t0, VA
  sfence.vma t0, zero
  LD unmapped, VA
  MAP l1, VA, data_b, PTE_V | PTE_R | PTE_A
  li t0, VA
  sfence.vma t0, zero
  ST read-only, VA, 0x5eed
  LD read-only, VA
  MAP l1, VA, data_b, PTE_RW_AD
  li t0, VA
  sfence.vma t0, zero
  ST writable, VA, 0xbbbb0004
  LD writable, VA
  PUTS "exec: "
  li t0, VA_X
  jalr ra, 0(t0)
  PR "a0", a0
  MAP l1, VA_X, code_page, PTE_V | PTE_R | PTE_A
  li t0, VA_X
  sfence.vma t0, zero
  PUTS "not executable: "
  li a0, 0
  li t0, VA_X
  jalr ra, 0(t0)
  PR "a0", a0
  LD readable, VA_X

  PUTS "== level-1 entry\n"
  la a0, root_s
  li a1, VA
  la a2, l1b
  call pt_link
  sfence.vma
  LD other-table, VA
  la a0, root_s
  li a1, VA
  la a2, l1
  call pt_link
  sfence.vma
  LD back, VA

  PUTS "== through an alias of the table\n"
  la t0, data_c
  srli t0, t0, 12
  slli t0, t0, 10
  ori t0, t0, PTE_RW_AD
  li t1, VA_ALIAS + ((VA >> 12) & 0x3ff) * 4
  sw t0, 0(t1)
  li t0, VA
  sfence.vma t0, zero
  LD alias-written, VA

  PUTS "== a data page becomes a table\n"
  # page_p, written as data first: its entry for VA2 maps data_a
  la t0, data_a
  srli t0, t0, 12
  slli t0, t0, 10
  ori t0, t0, PTE_RW_AD
  li t1, VA_P + ((VA2 >> 12) & 0x3ff) * 4
  sw t0, 0(t1)
  la a0, root_s
  li a1, VA2
  la a2, page_p
  call pt_link
  sfence.vma
  LD new-table, VA2
  # the same page, written through its old data mapping, now changes a translation
  la t0, data_b
  srli t0, t0, 12
  slli t0, t0, 10
  ori t0, t0, PTE_RW_AD
  li t1, VA_P + ((VA2 >> 12) & 0x3ff) * 4
  sw t0, 0(t1)
  li t0, VA2
  sfence.vma t0, zero
  LD table-rewritten, VA2

  PUTS "== global page\n"
  LD global, VA_G
  MAP l1, VA_G, data_c, PTE_RW_AD | PTE_G
  li t0, VA_G
  sfence.vma t0, zero
  LD global-remapped, VA_G

  PUTS "== ASID\n"
  la t0, root_2
  srli t0, t0, 12
  li t1, SATP_SV32 | (ASID << 22)
  or t0, t0, t1
  csrw satp, t0
  li t0, ASID
  sfence.vma zero, t0
  csrr s1, satp
  srli s1, s1, 22
  andi s1, s1, 0x1ff
  PR "asid", s1
  LD asid-first, VA
  MAP l1c, VA, data_b, PTE_RW_AD
  li t0, ASID
  sfence.vma zero, t0
  LD asid-all, VA
  MAP l1c, VA, data_c, PTE_RW_AD
  li t0, VA
  li t1, ASID
  sfence.vma t0, t1
  LD asid-page, VA
  MAP l1c, VA, data_a, PTE_V | PTE_R | PTE_A
  li t0, VA
  li t1, ASID
  sfence.vma t0, t1
  ST asid-read-only, VA, 0x5eed
  LD asid-read-only, VA
  # back to the first space (ASID 0), whose entry for VA still maps data_c
  la a0, root_s
  call satp_on
  LD space-0, VA
  TO_M to_u

to_u:
  la a0, root_u
  call satp_on
  GOTO_MODE 0, in_u
in_u:
  PUTS "== U\n"
  LD user, VA_U
  TO_M remap_u
remap_u:
  MAP l1, VA_U, data_b, PTE_RW_AD | PTE_U
  li t0, VA_U
  sfence.vma t0, zero
  GOTO_MODE 0, in_u2
in_u2:
  LD user-remapped, VA_U
  TO_M unmap_u
unmap_u:
  MAP l1, VA_U, data_b, PTE_RW_AD
  li t0, VA_U
  sfence.vma t0, zero
  GOTO_MODE 0, in_u3
in_u3:
  LD user-now-supervisor, VA_U
  TO_M done
done:
  csrw satp, zero
  sfence.vma
  la t0, data_b
  lw s1, 0(t0)
  PR "data_b", s1
  EXIT 0

.text
.balign 4096
code_page:
  li a0, 0x600d
  ret
.balign 4096

.bss
.balign 4096
root_s: .space 4096
root_2: .space 4096
root_u: .space 4096
l1: .space 4096
l1b: .space 4096
l1c: .space 4096
page_p: .space 4096
data_a: .space 4096
data_b: .space 4096
data_c: .space 4096
