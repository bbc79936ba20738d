;; The interpreter's fast run in WebAssembly (fast-run.ts): the inner loop of interp.ts's `execute`,
;; the same instructions on the same fast paths, with the same ways out. It decodes each instruction
;; from RAM (compressed ones through a table of their 32-bit forms) instead of keeping a decode
;; cache, reads the registers, the TLB, the code lines, the heat table and each RAM page's installed
;; block starts (jit.ts, liveBlocks and blockBits) in the hart's arena, and leaves before an
;; instruction it cannot finish on a fast path, having changed nothing for it, so that `execute`'s
;; general path runs that one.
;;
;; scripts/build-fast-run.ts turns this text into src/engine/cpu/fast-run-wasm.ts, replacing each
;; at-sign-delimited name with the arena layout's constant from jit-wasm.ts; test/cpu/fast-run.test.ts checks that the
;; committed bytes are this text's.
;;
;; run(pc, steps, end, fbase, foff, flimit, dtag, ftag, flags, noff) returns how the run ended:
;;   0  at the top of execute's loop (the slice's end, or a fetch page the TLB cannot give),
;;   1  the same, at a control transfer's target (a block may start there, or the start turned hot),
;;   2  in front of an instruction for the general path,
;;   3  after a region it entered trapped (execute raises the trap);
;; and leaves pc, steps, fbase, foff, flimit and the TLB hits in the arena's fast-run status words (jit-wasm.ts, FAST_AT).
;; The module also holds the translator's trampoline ($d), which the run calls to enter regions.
;; flimit is 0xffe: execute runs it only at a pc inside a fetch page (below its last halfword). The run
;; sets it to 0 to look at its pc again at the loop's top (landing at an entry), and leaves 0xffe.
;; flags: 1 the C extension, 2 the M extension, 4 the translator is on, 8 the A extension.
;; noff: instructions retired less steps (execute's nOff), for the regions' slow calls.
;;
;; Where execute's top would enter a translated region (a start of a page's blocks, with the
;; translator on), the run enters it itself when the arena's entry table holds it, through the
;; translator's trampoline ($d below), and goes on at its exit pc as execute's top would: that
;; pc is an entry (a block may start there, its heat counts). It leaves when the region trapped
;; (3), or called a slow path (1: the slice's end may have moved); the regions it ran, their
;; instructions, chains and TLB hits add up in the status words after the run's own.
(module
  (import "e" "m" (memory 1))
  ;; Byte addresses of the hart's arena, its code lines and its per-page block counts.
  (import "e" "a" (global $arena i32))
  (import "e" "l" (global $lines i32))
  (import "e" "p" (global $pblk i32))
  ;; The translator's regions (jit-wasm.ts), by table slot.
  (import "e" "t" (table 0 funcref))
  ;; A region: (dtag, room, instructions retired before it, entry block) -> instructions retired.
  (type $regionFn (func (param i32 i32 i32 i32) (result i32)))
  ;; The translator's trampoline, which execute's region wrapper calls too (exported as d):
  ;; (slot, dtag, room, ftag, chain) -> instructions retired. It calls region `slot` from block
  ;; chain >> 1, then, while chain's bit 0 is set and the region left without a trap, goes on into
  ;; the region installed at its exit pc exactly when the dispatcher would enter it there: the TLB
  ;; has a fetch entry for the pc (tag, not the page's last halfword), the chain table holds a
  ;; region at that RAM offset for that pc, and the slice has room for the region's entry block.
  ;; Instructions retired and the slice's room carry over from region to region (a region's counts
  ;; start at the total it is given), so a chain counts steps, cuts slices and thus takes
  ;; interrupts as the dispatcher does. It leaves the regions' TLB hits and the chains taken in
  ;; the status area.
  (func $d (export "d") (param $slot i32) (param $dtag i32) (param $room i32) (param $ftag i32) (param $chain i32) (result i32)
    (local $A i32) (local $t i32) (local $pc i32) (local $ti i32) (local $o i32) (local $e i32)
    (local $hits i32) (local $n i32) (local $b i32)
    (local.set $A (global.get $arena))
    (local.set $b (i32.shr_u (local.get $chain) (i32.const 1)))
    (local.set $chain (i32.and (local.get $chain) (i32.const 1)))
    (block $out
      (loop $top
        (local.set $t (call_indirect (type $regionFn)
          (local.get $dtag) (local.get $room) (local.get $t) (local.get $b) (local.get $slot)))
        (local.set $hits (i32.add (local.get $hits) (i32.load offset=@S_HITS@ (local.get $A))))
        (br_if $out (i32.eqz (local.get $chain)))
        (br_if $out (i32.load offset=@S_TRAP@ (local.get $A)))
        (local.set $room (i32.load offset=@S_ROOM@ (local.get $A)))
        (local.set $pc (i32.load offset=@S_PC@ (local.get $A)))
        (local.set $ti (i32.add (local.get $A) (i32.shl (i32.and (i32.shr_u (local.get $pc) (i32.const 12)) (i32.const @TLB_MASK@)) (i32.const 2))))
        (br_if $out (i32.ne (i32.load offset=@TAGX@ (local.get $ti)) (i32.or (i32.shr_u (local.get $pc) (i32.const 12)) (local.get $ftag))))
        (br_if $out (i32.ge_u (i32.and (local.get $pc) (i32.const 0xfff)) (i32.const 0xffe)))
        ;; The region at RAM offset pc + off, for this pc, whose entry block fits the slice.
        (local.set $o (i32.add (local.get $pc) (i32.load offset=@TOFF@ (local.get $ti))))
        (local.set $e (i32.add (local.get $A) (i32.shl (i32.and (i32.shr_u (local.get $o) (i32.const 1)) (i32.const @CHAIN_MASK@)) (i32.const 4))))
        (br_if $out (i32.ne (i32.load offset=@CH@ (local.get $e)) (local.get $o)))
        (br_if $out (i32.ne (i32.load offset=@CH4@ (local.get $e)) (local.get $pc)))
        (local.set $b (i32.load offset=@CH12@ (local.get $e)))
        (br_if $out (i32.gt_s (i32.add (local.get $t) (i32.and (local.get $b) (i32.const 255))) (local.get $room)))
        (local.set $b (i32.shr_u (local.get $b) (i32.const 8)))
        (local.set $slot (i32.load offset=@CH8@ (local.get $e)))
        (local.set $n (i32.add (local.get $n) (i32.const 1)))
        (br $top)))
    (i32.store offset=@S_HITS@ (local.get $A) (local.get $hits))
    (i32.store offset=@S_CHAINS@ (local.get $A) (local.get $n))
    (local.get $t))
;; Enters the region the entry table holds for RAM offset $o and virtual $pc, when its entry block
  ;; fits the slice, as execute's top does; returns 0 when there is none (or it does not fit), else
  ;; 1 when it ran, 2 when it trapped, 3 when it called a slow path. Its exit pc is in the status
  ;; area, the instructions it retired in the fast-run status words.
  (func $region (param $A i32) (param $o i32) (param $pc i32) (param $steps i32) (param $end i32)
    (param $dtag i32) (param $ftag i32) (param $noff i32) (result i32)
    (local $e i32) (local $w i32) (local $room i32) (local $t i32)
    (local.set $e (i32.add (local.get $A) (i32.shl (i32.and (i32.shr_u (local.get $o) (i32.const 1)) (i32.const @ENT_MASK@)) (i32.const 4))))
    (if (i32.ne (i32.load offset=@ENT@ (local.get $e)) (local.get $o)) (then (return (i32.const 0))))
    (if (i32.ne (i32.load offset=@ENT4@ (local.get $e)) (local.get $pc)) (then (return (i32.const 0))))
    (local.set $w (i32.load offset=@ENT12@ (local.get $e)))
    (local.set $room (i32.sub (local.get $end) (local.get $steps)))
    (if (i32.gt_s (i32.and (local.get $w) (i32.const 255)) (local.get $room)) (then (return (i32.const 0))))
    (if (i32.gt_s (local.get $room) (i32.const @ROOM_MAX@)) (then (local.set $room (i32.const @ROOM_MAX@))))
    ;; The slow calls' steps, and whether any was made.
    (i32.store offset=@S_VIA@ (local.get $A) (i32.const 1))
    (i32.store offset=@S_N0@ (local.get $A) (i32.add (local.get $steps) (local.get $noff)))
    (i32.store offset=@S_S0@ (local.get $A) (local.get $steps))
    (i32.store offset=@S_SLOW@ (local.get $A) (i32.const 0))
    (local.set $t (call $d (i32.load offset=@ENT8@ (local.get $e)) (local.get $dtag) (local.get $room) (local.get $ftag)
      (i32.or (i32.const 1) (i32.shl (i32.shr_u (local.get $w) (i32.const 8)) (i32.const 1)))))
    (i32.store offset=@ST28@ (local.get $A) (local.get $t))
    (i32.store offset=@ST32@ (local.get $A) (i32.add (i32.load offset=@ST32@ (local.get $A)) (i32.const 1)))
    (i32.store offset=@ST36@ (local.get $A) (i32.add (i32.load offset=@ST36@ (local.get $A)) (local.get $t)))
    (i32.store offset=@ST40@ (local.get $A) (i32.add (i32.load offset=@ST40@ (local.get $A)) (i32.load offset=@S_CHAINS@ (local.get $A))))
    (i32.store offset=@ST44@ (local.get $A) (i32.add (i32.load offset=@ST44@ (local.get $A)) (i32.load offset=@S_HITS@ (local.get $A))))
    (if (i32.load offset=@S_TRAP@ (local.get $A)) (then (return (i32.const 2))))
    (if (i32.load offset=@S_SLOW@ (local.get $A)) (then (return (i32.const 3))))
    (i32.const 1))
  (func (export "run")
    (param $pc i32) (param $steps i32) (param $end i32) (param $fbase i32) (param $foff i32)
    (param $flimit i32) (param $dtag i32) (param $ftag i32) (param $flags i32) (param $noff i32) (result i32)
    (local $A i32) (local $L i32) (local $P i32) (local $hits i32) (local $kind i32)
    (local $w i32) (local $npc i32) (local $rd i32) (local $a i32) (local $b i32) (local $t i32)
    (local $vp i32) (local $ti i32) (local $o i32) (local $heat i32) (local $tmask i32)
    (local $k i32)
    (local.set $A (global.get $arena))
    (local.set $L (global.get $lines))
    (local.set $P (global.get $pblk))
    ;; Without C a jump target with bit 1 set is misaligned.
    (local.set $tmask (select (i32.const 0) (i32.const 2) (i32.and (local.get $flags) (i32.const 1))))
    (block $out
    (block $gen
    (block $trap
    (block $entry
    (block $top
    (loop $next
      (br_if $top (i32.ge_s (local.get $steps) (local.get $end)))
      (block $fetched
      ;; Running on into another page, or landing at a region's exit pc or a block's start ($flimit
      ;; 0): the page's TLB fetch entry, and with the translator on the entry's check (a block may
      ;; start there).
      (if (i32.ge_u (i32.sub (local.get $pc) (local.get $fbase)) (local.get $flimit))
        (then
          ;; Running on into the fetch page's last halfword: its instruction, a 32-bit one's upper half
          ;; from the next page when the TLB has its fetch entry, as execute's general path fetches it
          ;; (its next pc is an entry there too: the run goes on into the next page as above). A
          ;; control transfer or an AMO there is left to the general path, whose top counts its target.
          (if (i32.and (i32.eq (i32.sub (local.get $pc) (local.get $fbase)) (i32.const 0xffe)) (i32.ne (local.get $flimit) (i32.const 0)))
            (then
              (local.set $o (i32.add (local.get $pc) (local.get $foff)))
              (local.set $w (i32.load16_u (local.get $o)))
              (if (i32.eq (i32.and (local.get $w) (i32.const 3)) (i32.const 3))
                (then
                  (local.set $vp (i32.and (i32.add (i32.shr_u (local.get $pc) (i32.const 12)) (i32.const 1)) (i32.const 0xfffff)))
                  (local.set $ti (i32.add (local.get $A) (i32.shl (i32.and (local.get $vp) (i32.const @TLB_MASK@)) (i32.const 2))))
                  (br_if $top (i32.ne (i32.load offset=@TAGX@ (local.get $ti)) (i32.or (local.get $vp) (local.get $ftag))))
                  (local.set $w (i32.or (local.get $w)
                    (i32.shl (i32.load16_u (i32.add (i32.add (local.get $pc) (i32.const 2)) (i32.load offset=@TOFF@ (local.get $ti)))) (i32.const 16))))
                  (local.set $npc (i32.add (local.get $pc) (i32.const 4))))
                (else
                  (br_if $gen (i32.eqz (i32.and (local.get $flags) (i32.const 1))))
                  (local.set $w (i32.load offset=@EXP@ (i32.add (local.get $A) (i32.shl (local.get $w) (i32.const 2)))))
                  (br_if $gen (i32.eqz (local.get $w)))
                  (local.set $npc (i32.add (local.get $pc) (i32.const 2)))))
              ;; Branches (24), JALR (25), JAL (27) and AMOs (11), by opcode bits 6:2.
              (br_if $gen (i32.and (i32.shr_u (i32.const 0x0b000800) (i32.and (i32.shr_u (local.get $w) (i32.const 2)) (i32.const 31))) (i32.const 1)))
              (br $fetched)))
          (if (i32.ge_u (i32.sub (local.get $pc) (local.get $fbase)) (i32.const 0xffe))
            (then
              (local.set $vp (i32.shr_u (local.get $pc) (i32.const 12)))
              (local.set $ti (i32.add (local.get $A) (i32.shl (i32.and (local.get $vp) (i32.const @TLB_MASK@)) (i32.const 2))))
              (br_if $top (i32.ne (i32.load offset=@TAGX@ (local.get $ti)) (i32.or (local.get $vp) (local.get $ftag))))
              (br_if $top (i32.ge_u (i32.and (local.get $pc) (i32.const 0xfff)) (i32.const 0xffe)))
              (local.set $fbase (i32.shl (local.get $vp) (i32.const 12)))
              (local.set $foff (i32.load offset=@TOFF@ (local.get $ti)))))
          (local.set $flimit (i32.const 0xffe))
          (if (i32.and (local.get $flags) (i32.const 4))
            (then
              (local.set $o (i32.add (local.get $pc) (local.get $foff)))
              ;; Whether a block may start here ($k nonzero): the page has blocks, and either no bitmap of
              ;; their starts (liveBlocks -1) or a bitmap with the halfword's bit set.
              (local.set $k (i32.load (i32.add (local.get $P) (i32.shl (i32.shr_u (local.get $o) (i32.const 12)) (i32.const 2)))))
              (if (i32.gt_s (local.get $k) (i32.const 0))
                (then
                  (local.set $k (i32.and
                    (i32.shr_u
                      (i32.load offset=@BITS@ (i32.add (local.get $A)
                        (i32.add (i32.shl (i32.sub (local.get $k) (i32.const 1)) (i32.const 8))
                                 (i32.shl (i32.shr_u (i32.and (local.get $o) (i32.const 0xfff)) (i32.const 6)) (i32.const 2)))))
                      (i32.and (i32.shr_u (local.get $o) (i32.const 1)) (i32.const 31)))
                    (i32.const 1)))))
              (if (local.get $k)
                (then
                  ;; A block starts here: its region, when the entry table holds it, else execute's top.
                  (local.set $k (call $region (local.get $A) (local.get $o) (local.get $pc) (local.get $steps) (local.get $end)
                    (local.get $dtag) (local.get $ftag) (local.get $noff)))
                  (br_if $entry (i32.eqz (local.get $k)))
                  (local.set $pc (i32.load offset=@S_PC@ (local.get $A)))
                  (br_if $trap (i32.eq (local.get $k) (i32.const 2)))
                  (local.set $steps (i32.add (local.get $steps) (i32.load offset=@ST28@ (local.get $A))))
                  (br_if $entry (i32.eq (local.get $k) (i32.const 3)))
                  (local.set $flimit (i32.const 0))
                  (br $next)))
              (local.set $t (i32.add (local.get $A) (i32.shl (i32.and (i32.shr_u (local.get $o) (i32.const 1)) (i32.const @HOT_MASK@)) (i32.const 2))))
              (local.set $heat (i32.add (i32.load offset=@HOT@ (local.get $t)) (i32.const 1)))
              (br_if $entry (i32.ge_s (local.get $heat) (i32.const @HOT_THRESHOLD@)))
              (i32.store offset=@HOT@ (local.get $t) (local.get $heat))))
          (br $next)))
      ;; Fetch: a 32-bit instruction, or a compressed one's 32-bit form (0: reserved).
      (local.set $o (i32.add (local.get $pc) (local.get $foff)))
      (local.set $w (i32.load16_u (local.get $o)))
      (if (i32.eq (i32.and (local.get $w) (i32.const 3)) (i32.const 3))
        (then
          (local.set $w (i32.load (local.get $o)))
          (local.set $npc (i32.add (local.get $pc) (i32.const 4))))
        (else
          (br_if $gen (i32.eqz (i32.and (local.get $flags) (i32.const 1))))
          (local.set $w (i32.load offset=@EXP@ (i32.add (local.get $A) (i32.shl (local.get $w) (i32.const 2)))))
          (br_if $gen (i32.eqz (local.get $w)))
          (local.set $npc (i32.add (local.get $pc) (i32.const 2)))))
      ) ;; fetched
      ;; rd as a byte address in the arena; rs1's value in $a.
      (local.set $rd (i32.add (local.get $A) (i32.and (i32.shr_u (local.get $w) (i32.const 5)) (i32.const 124))))
      (local.set $a (i32.load (i32.add (local.get $A) (i32.and (i32.shr_u (local.get $w) (i32.const 13)) (i32.const 124)))))
      (block $done
      (block $jump
      (block $op
      (block $store
      (block $opimm
      (block $load
      (block $lui
      (block $auipc
      (block $branch
      (block $jalr
      (block $jal
      (block $fence
      (block $amo
        (br_table $load $gen $gen $fence $opimm $auipc $gen $gen
                  $store $gen $gen $amo $op $lui $gen $gen
                  $gen $gen $gen $gen $gen $gen $gen $gen
                  $branch $jalr $gen $jal $gen $gen $gen $gen
          (i32.and (i32.shr_u (local.get $w) (i32.const 2)) (i32.const 31))))
      ;; The A extension's word instructions, aligned.
      (block $lrsc
      (br_if $gen (i32.eqz (i32.and (local.get $flags) (i32.const 8))))
      (br_if $gen (i32.ne (i32.and (i32.shr_u (local.get $w) (i32.const 12)) (i32.const 7)) (i32.const 2)))
      (br_if $gen (i32.and (local.get $a) (i32.const 3)))
      ;; LR and SC as execute's general path runs them in its loop (interp.ts, rareInLoop), with
      ;; the reservation in the status area: LR through the TLB's read tag; SC fails without an
      ;; access where the reservation is not its address, else through the write tag, storing when
      ;; the word still holds what LR read. Their next pc is an entry, as there.
      (local.set $k (i32.shr_u (local.get $w) (i32.const 27)))
      (if (i32.eq (local.get $k) (i32.const 2))
        (then
          (br_if $gen (i32.and (i32.shr_u (local.get $w) (i32.const 20)) (i32.const 31)))
          (local.set $vp (i32.shr_u (local.get $a) (i32.const 12)))
          (local.set $ti (i32.add (local.get $A) (i32.shl (i32.and (local.get $vp) (i32.const @TLB_MASK@)) (i32.const 2))))
          (br_if $gen (i32.ne (i32.load offset=@TAGR@ (local.get $ti)) (i32.or (local.get $vp) (local.get $dtag))))
          (local.set $t (i32.load (i32.add (local.get $a) (i32.load offset=@TOFF@ (local.get $ti)))))
          (local.set $hits (i32.add (local.get $hits) (i32.const 1)))
          (i32.store offset=@S_RESV@ (local.get $A) (local.get $a))
          (i32.store offset=@S_RESV_VALUE@ (local.get $A) (local.get $t))
          (i32.store (local.get $rd) (local.get $t))
          (br $lrsc)))
      (if (i32.eq (local.get $k) (i32.const 3))
        (then
          (if (i32.ne (i32.load offset=@S_RESV@ (local.get $A)) (local.get $a))
            (then
              (i32.store offset=@S_RESV@ (local.get $A) (i32.const -1))
              (i32.store (local.get $rd) (i32.const 1))
              (br $lrsc)))
          (local.set $vp (i32.shr_u (local.get $a) (i32.const 12)))
          (local.set $ti (i32.add (local.get $A) (i32.shl (i32.and (local.get $vp) (i32.const @TLB_MASK@)) (i32.const 2))))
          (br_if $gen (i32.ne (i32.load offset=@TAGW@ (local.get $ti)) (i32.or (local.get $vp) (local.get $dtag))))
          (local.set $o (i32.add (local.get $a) (i32.load offset=@TOFF@ (local.get $ti))))
          (local.set $hits (i32.add (local.get $hits) (i32.const 1)))
          (i32.store offset=@S_RESV@ (local.get $A) (i32.const -1))
          (if (i32.ne (i32.load (local.get $o)) (i32.load offset=@S_RESV_VALUE@ (local.get $A)))
            (then
              (i32.store (local.get $rd) (i32.const 1))
              (br $lrsc)))
          (i32.store (local.get $o) (i32.load (i32.add (local.get $A) (i32.and (i32.shr_u (local.get $w) (i32.const 18)) (i32.const 124)))))
          (i32.store (local.get $rd) (i32.const 0))
          (br $lrsc)))
      ;; AMOs: through the TLB's write tag (a page holding translated code takes the general path).
      ;; They end in the jump tail: execute's general path, which ran them before, counts the next pc
      ;; as an entry.
      (local.set $vp (i32.shr_u (local.get $a) (i32.const 12)))
      (local.set $ti (i32.add (local.get $A) (i32.shl (i32.and (local.get $vp) (i32.const @TLB_MASK@)) (i32.const 2))))
      (br_if $gen (i32.ne (i32.load offset=@TAGW@ (local.get $ti)) (i32.or (local.get $vp) (local.get $dtag))))
      (local.set $o (i32.add (local.get $a) (i32.load offset=@TOFF@ (local.get $ti))))
      (local.set $b (i32.load (i32.add (local.get $A) (i32.and (i32.shr_u (local.get $w) (i32.const 18)) (i32.const 124)))))
      (local.set $t (i32.load (local.get $o)))
      (block $amonew
      (block $amaxu (block $aminu (block $amax (block $amin (block $aand (block $aor (block $axor (block $aswap (block $aadd
        ;; By funct5 (31:27); aq and rl order nothing here.
        (br_table $aadd $aswap $gen $gen $axor $gen $gen $gen $aor $gen $gen $gen $aand $gen $gen $gen
                  $amin $gen $gen $gen $amax $gen $gen $gen $aminu $gen $gen $gen $amaxu $gen $gen $gen
          (i32.shr_u (local.get $w) (i32.const 27))))
        (local.set $b (i32.add (local.get $t) (local.get $b))) (br $amonew))
        (br $amonew))
        (local.set $b (i32.xor (local.get $t) (local.get $b))) (br $amonew))
        (local.set $b (i32.or (local.get $t) (local.get $b))) (br $amonew))
        (local.set $b (i32.and (local.get $t) (local.get $b))) (br $amonew))
        (local.set $b (select (local.get $t) (local.get $b) (i32.lt_s (local.get $t) (local.get $b)))) (br $amonew))
        (local.set $b (select (local.get $t) (local.get $b) (i32.gt_s (local.get $t) (local.get $b)))) (br $amonew))
        (local.set $b (select (local.get $t) (local.get $b) (i32.lt_u (local.get $t) (local.get $b)))) (br $amonew))
      (local.set $b (select (local.get $t) (local.get $b) (i32.gt_u (local.get $t) (local.get $b)))))
      (local.set $hits (i32.add (local.get $hits) (i32.const 1)))
      (i32.store (local.get $o) (local.get $b))
      (i32.store (local.get $rd) (local.get $t))
      (br $jump))
      ;; LR and SC's tail: back to the loop's top, their next pc an entry.
      (i32.store (local.get $A) (i32.const 0))
      (local.set $steps (i32.add (local.get $steps) (i32.const 1)))
      (local.set $pc (local.get $npc))
      (local.set $flimit (i32.const 0))
      (br $next))
      ;; FENCE (any fields: FENCE.TSO and PAUSE too) and FENCE.I order nothing here.
      (br_if $gen (i32.gt_u (i32.and (i32.shr_u (local.get $w) (i32.const 12)) (i32.const 7)) (i32.const 1)))
      (br $done))
      ;; JAL
      (local.set $t (i32.add (local.get $pc)
        (i32.or
          (i32.or (i32.shl (i32.shr_s (local.get $w) (i32.const 31)) (i32.const 20)) (i32.and (local.get $w) (i32.const 0xff000)))
          (i32.or (i32.and (i32.shr_u (local.get $w) (i32.const 9)) (i32.const 0x800)) (i32.and (i32.shr_u (local.get $w) (i32.const 20)) (i32.const 0x7fe))))))
      (br_if $gen (i32.and (local.get $t) (local.get $tmask)))
      (i32.store (local.get $rd) (local.get $npc))
      (local.set $npc (local.get $t))
      (br $jump))
      ;; JALR
      (br_if $gen (i32.and (local.get $w) (i32.const 0x7000)))
      (local.set $t (i32.and (i32.add (local.get $a) (i32.shr_s (local.get $w) (i32.const 20))) (i32.const -2)))
      (br_if $gen (i32.and (local.get $t) (local.get $tmask)))
      (i32.store (local.get $rd) (local.get $npc))
      (local.set $npc (local.get $t))
      (br $jump))
      ;; Branches: taken or not, they end in the jump tail.
      (local.set $b (i32.load (i32.add (local.get $A) (i32.and (i32.shr_u (local.get $w) (i32.const 18)) (i32.const 124)))))
      (block $taken
        (block $bgeu (block $bltu (block $bge (block $blt (block $bne (block $beq
          (br_table $beq $bne $gen $gen $blt $bge $bltu $bgeu
            (i32.and (i32.shr_u (local.get $w) (i32.const 12)) (i32.const 7))))
          (br_if $taken (i32.eq (local.get $a) (local.get $b))) (br $jump))
          (br_if $taken (i32.ne (local.get $a) (local.get $b))) (br $jump))
          (br_if $taken (i32.lt_s (local.get $a) (local.get $b))) (br $jump))
          (br_if $taken (i32.ge_s (local.get $a) (local.get $b))) (br $jump))
          (br_if $taken (i32.lt_u (local.get $a) (local.get $b))) (br $jump))
        (br_if $taken (i32.ge_u (local.get $a) (local.get $b))) (br $jump))
      (local.set $t (i32.add (local.get $pc)
        (i32.or
          (i32.or (i32.shl (i32.shr_s (local.get $w) (i32.const 31)) (i32.const 12)) (i32.and (i32.shl (local.get $w) (i32.const 4)) (i32.const 0x800)))
          (i32.or (i32.and (i32.shr_u (local.get $w) (i32.const 20)) (i32.const 0x7e0)) (i32.and (i32.shr_u (local.get $w) (i32.const 7)) (i32.const 0x1e))))))
      (br_if $gen (i32.and (local.get $t) (local.get $tmask)))
      (local.set $npc (local.get $t))
      (br $jump))
      ;; AUIPC
      (i32.store (local.get $rd) (i32.add (local.get $pc) (i32.and (local.get $w) (i32.const 0xfffff000))))
      (br $done))
      ;; LUI
      (i32.store (local.get $rd) (i32.and (local.get $w) (i32.const 0xfffff000)))
      (br $done))
      ;; Loads: through the TLB's read tag, aligned.
      (local.set $a (i32.add (local.get $a) (i32.shr_s (local.get $w) (i32.const 20))))
      (local.set $vp (i32.shr_u (local.get $a) (i32.const 12)))
      (local.set $ti (i32.add (local.get $A) (i32.shl (i32.and (local.get $vp) (i32.const @TLB_MASK@)) (i32.const 2))))
      (br_if $gen (i32.ne (i32.load offset=@TAGR@ (local.get $ti)) (i32.or (local.get $vp) (local.get $dtag))))
      (local.set $o (i32.add (local.get $a) (i32.load offset=@TOFF@ (local.get $ti))))
      (block $lw (block $lhu (block $lbu (block $lh (block $lb
        (br_table $lb $lh $lw $gen $lbu $lhu $gen $gen
          (i32.and (i32.shr_u (local.get $w) (i32.const 12)) (i32.const 7))))
        (local.set $hits (i32.add (local.get $hits) (i32.const 1))) (i32.store (local.get $rd) (i32.load8_s (local.get $o))) (br $done))
        (br_if $gen (i32.and (local.get $a) (i32.const 1)))
        (local.set $hits (i32.add (local.get $hits) (i32.const 1))) (i32.store (local.get $rd) (i32.load16_s (local.get $o))) (br $done))
        (local.set $hits (i32.add (local.get $hits) (i32.const 1))) (i32.store (local.get $rd) (i32.load8_u (local.get $o))) (br $done))
        (br_if $gen (i32.and (local.get $a) (i32.const 1)))
        (local.set $hits (i32.add (local.get $hits) (i32.const 1))) (i32.store (local.get $rd) (i32.load16_u (local.get $o))) (br $done))
      (br_if $gen (i32.and (local.get $a) (i32.const 3)))
      (local.set $hits (i32.add (local.get $hits) (i32.const 1)))
      (i32.store (local.get $rd) (i32.load (local.get $o)))
      (br $done))
      ;; OP-IMM
      (local.set $b (i32.shr_s (local.get $w) (i32.const 20)))
      (block $andi (block $ori (block $sri (block $xori (block $sltiu (block $slti (block $slli (block $addi
        (br_table $addi $slli $slti $sltiu $xori $sri $ori $andi
          (i32.and (i32.shr_u (local.get $w) (i32.const 12)) (i32.const 7))))
        (i32.store (local.get $rd) (i32.add (local.get $a) (local.get $b))) (br $done))
        (br_if $gen (i32.shr_u (local.get $w) (i32.const 25)))
        (i32.store (local.get $rd) (i32.shl (local.get $a) (local.get $b))) (br $done))
        (i32.store (local.get $rd) (i32.lt_s (local.get $a) (local.get $b))) (br $done))
        (i32.store (local.get $rd) (i32.lt_u (local.get $a) (local.get $b))) (br $done))
        (i32.store (local.get $rd) (i32.xor (local.get $a) (local.get $b))) (br $done))
        (if (i32.eqz (i32.shr_u (local.get $w) (i32.const 25)))
          (then (i32.store (local.get $rd) (i32.shr_u (local.get $a) (local.get $b))) (br $done)))
        (br_if $gen (i32.ne (i32.shr_u (local.get $w) (i32.const 25)) (i32.const 0x20)))
        (i32.store (local.get $rd) (i32.shr_s (local.get $a) (local.get $b))) (br $done))
        (i32.store (local.get $rd) (i32.or (local.get $a) (local.get $b))) (br $done))
      (i32.store (local.get $rd) (i32.and (local.get $a) (local.get $b)))
      (br $done))
      ;; Stores: through the TLB's write tag, or its code-write tag when the word holds no translated code.
      (local.set $a (i32.add (local.get $a)
        (i32.or (i32.shl (i32.shr_s (local.get $w) (i32.const 25)) (i32.const 5)) (i32.and (i32.shr_u (local.get $w) (i32.const 7)) (i32.const 31)))))
      (local.set $b (i32.load (i32.add (local.get $A) (i32.and (i32.shr_u (local.get $w) (i32.const 18)) (i32.const 124)))))
      (local.set $vp (i32.shr_u (local.get $a) (i32.const 12)))
      (local.set $ti (i32.add (local.get $A) (i32.shl (i32.and (local.get $vp) (i32.const @TLB_MASK@)) (i32.const 2))))
      (local.set $o (i32.add (local.get $a) (i32.load offset=@TOFF@ (local.get $ti))))
      (if (i32.ne (i32.load offset=@TAGW@ (local.get $ti)) (i32.or (local.get $vp) (local.get $dtag)))
        (then
          (br_if $gen (i32.ne (i32.load offset=@TAGC@ (local.get $ti)) (i32.or (local.get $vp) (local.get $dtag))))
          (br_if $gen (i32.and
            (i32.shr_u (i32.load (i32.add (local.get $L) (i32.shl (i32.shr_u (local.get $o) (i32.const 7)) (i32.const 2))))
                       (i32.and (i32.shr_u (local.get $o) (i32.const 2)) (i32.const 31)))
            (i32.const 1)))))
      (block $sw (block $sh (block $sb
        (br_table $sb $sh $sw $gen $gen $gen $gen $gen
          (i32.and (i32.shr_u (local.get $w) (i32.const 12)) (i32.const 7))))
        (local.set $hits (i32.add (local.get $hits) (i32.const 1))) (i32.store8 (local.get $o) (local.get $b)) (br $done))
        (br_if $gen (i32.and (local.get $a) (i32.const 1)))
        (local.set $hits (i32.add (local.get $hits) (i32.const 1))) (i32.store16 (local.get $o) (local.get $b)) (br $done))
      (br_if $gen (i32.and (local.get $a) (i32.const 3)))
      (local.set $hits (i32.add (local.get $hits) (i32.const 1)))
      (i32.store (local.get $o) (local.get $b))
      (br $done))
      ;; OP: the base set, and M's when the hart has it.
      (local.set $b (i32.load (i32.add (local.get $A) (i32.and (i32.shr_u (local.get $w) (i32.const 18)) (i32.const 124)))))
      (local.set $t (i32.shr_u (local.get $w) (i32.const 25)))
      (if (i32.eqz (local.get $t))
        (then
          (block $and (block $or (block $srl (block $xor (block $sltu (block $slt (block $sll (block $add
            (br_table $add $sll $slt $sltu $xor $srl $or $and
              (i32.and (i32.shr_u (local.get $w) (i32.const 12)) (i32.const 7))))
            (i32.store (local.get $rd) (i32.add (local.get $a) (local.get $b))) (br $done))
            (i32.store (local.get $rd) (i32.shl (local.get $a) (local.get $b))) (br $done))
            (i32.store (local.get $rd) (i32.lt_s (local.get $a) (local.get $b))) (br $done))
            (i32.store (local.get $rd) (i32.lt_u (local.get $a) (local.get $b))) (br $done))
            (i32.store (local.get $rd) (i32.xor (local.get $a) (local.get $b))) (br $done))
            (i32.store (local.get $rd) (i32.shr_u (local.get $a) (local.get $b))) (br $done))
            (i32.store (local.get $rd) (i32.or (local.get $a) (local.get $b))) (br $done))
          (i32.store (local.get $rd) (i32.and (local.get $a) (local.get $b)))
          (br $done)))
      (if (i32.eq (local.get $t) (i32.const 0x20))
        (then
          (block $sra (block $sub
            (br_table $sub $gen $gen $gen $gen $sra $gen $gen
              (i32.and (i32.shr_u (local.get $w) (i32.const 12)) (i32.const 7))))
            (i32.store (local.get $rd) (i32.sub (local.get $a) (local.get $b))) (br $done))
          (i32.store (local.get $rd) (i32.shr_s (local.get $a) (local.get $b)))
          (br $done)))
      (br_if $gen (i32.ne (local.get $t) (i32.const 1)))
      (br_if $gen (i32.eqz (i32.and (local.get $flags) (i32.const 2))))
      (block $remu (block $rem (block $divu (block $div (block $mulhu (block $mulhsu (block $mulh (block $mul
        (br_table $mul $mulh $mulhsu $mulhu $div $divu $rem $remu
          (i32.and (i32.shr_u (local.get $w) (i32.const 12)) (i32.const 7))))
        (i32.store (local.get $rd) (i32.mul (local.get $a) (local.get $b))) (br $done))
        (i32.store (local.get $rd) (i32.wrap_i64 (i64.shr_u
          (i64.mul (i64.extend_i32_s (local.get $a)) (i64.extend_i32_s (local.get $b))) (i64.const 32)))) (br $done))
        (i32.store (local.get $rd) (i32.wrap_i64 (i64.shr_u
          (i64.mul (i64.extend_i32_s (local.get $a)) (i64.extend_i32_u (local.get $b))) (i64.const 32)))) (br $done))
        (i32.store (local.get $rd) (i32.wrap_i64 (i64.shr_u
          (i64.mul (i64.extend_i32_u (local.get $a)) (i64.extend_i32_u (local.get $b))) (i64.const 32)))) (br $done))
        ;; DIV: by zero -1, the overflow (-2^31 / -1) -2^31.
        (if (i32.eqz (local.get $b)) (then (i32.store (local.get $rd) (i32.const -1)) (br $done)))
        (if (i32.and (i32.eq (local.get $a) (i32.const 0x80000000)) (i32.eq (local.get $b) (i32.const -1)))
          (then (i32.store (local.get $rd) (local.get $a)) (br $done)))
        (i32.store (local.get $rd) (i32.div_s (local.get $a) (local.get $b))) (br $done))
        (if (i32.eqz (local.get $b)) (then (i32.store (local.get $rd) (i32.const -1)) (br $done)))
        (i32.store (local.get $rd) (i32.div_u (local.get $a) (local.get $b))) (br $done))
        ;; REM: by zero the dividend; WebAssembly's rem_s gives 0 for the overflow, as RISC-V does.
        (if (i32.eqz (local.get $b)) (then (i32.store (local.get $rd) (local.get $a)) (br $done)))
        (i32.store (local.get $rd) (i32.rem_s (local.get $a) (local.get $b))) (br $done))
      (if (i32.eqz (local.get $b)) (then (i32.store (local.get $rd) (local.get $a)) (br $done)))
      (i32.store (local.get $rd) (i32.rem_u (local.get $a) (local.get $b)))
      (br $done))
      ;; The jump tail: with the translator on, the target may start a block or turn hot.
      (i32.store (local.get $A) (i32.const 0))
      (local.set $steps (i32.add (local.get $steps) (i32.const 1)))
      (local.set $pc (local.get $npc))
      (br_if $next (i32.eqz (i32.and (local.get $flags) (i32.const 4))))
      (if (i32.ge_u (i32.sub (local.get $pc) (local.get $fbase)) (i32.const 0xffe))
        (then
          (local.set $vp (i32.shr_u (local.get $pc) (i32.const 12)))
          (local.set $ti (i32.add (local.get $A) (i32.shl (i32.and (local.get $vp) (i32.const @TLB_MASK@)) (i32.const 2))))
          (br_if $entry (i32.ne (i32.load offset=@TAGX@ (local.get $ti)) (i32.or (local.get $vp) (local.get $ftag))))
          (br_if $entry (i32.ge_u (i32.and (local.get $pc) (i32.const 0xfff)) (i32.const 0xffe)))
          (local.set $fbase (i32.shl (local.get $vp) (i32.const 12)))
          (local.set $foff (i32.load offset=@TOFF@ (local.get $ti)))))
      (local.set $o (i32.add (local.get $pc) (local.get $foff)))
      ;; A block starts there: back to the loop's top, which enters it as execute's would.
      ;; Whether a block may start there ($k nonzero), as above.
      (local.set $k (i32.load (i32.add (local.get $P) (i32.shl (i32.shr_u (local.get $o) (i32.const 12)) (i32.const 2)))))
      (if (i32.gt_s (local.get $k) (i32.const 0))
        (then
          (local.set $k (i32.and
            (i32.shr_u
              (i32.load offset=@BITS@ (i32.add (local.get $A)
                (i32.add (i32.shl (i32.sub (local.get $k) (i32.const 1)) (i32.const 8))
                         (i32.shl (i32.shr_u (i32.and (local.get $o) (i32.const 0xfff)) (i32.const 6)) (i32.const 2)))))
              (i32.and (i32.shr_u (local.get $o) (i32.const 1)) (i32.const 31)))
            (i32.const 1)))))
      (if (local.get $k)
        (then
          (local.set $flimit (i32.const 0))
          (br $next)))
      (local.set $t (i32.add (local.get $A) (i32.shl (i32.and (i32.shr_u (local.get $o) (i32.const 1)) (i32.const @HOT_MASK@)) (i32.const 2))))
      (local.set $heat (i32.add (i32.load offset=@HOT@ (local.get $t)) (i32.const 1)))
      (br_if $entry (i32.ge_s (local.get $heat) (i32.const @HOT_THRESHOLD@)))
      (i32.store offset=@HOT@ (local.get $t) (local.get $heat))
      (br $next))
      ;; Every other instruction.
      (i32.store (local.get $A) (i32.const 0))
      (local.set $steps (i32.add (local.get $steps) (i32.const 1)))
      (local.set $pc (local.get $npc))
      (br $next))
    ) ;; top
    (local.set $kind (i32.const 0))
    (br $out))
    (local.set $kind (i32.const 1))
    (br $out))
    (local.set $kind (i32.const 3))
    (br $out))
    (local.set $kind (i32.const 2)))
    (i32.store offset=@ST@ (local.get $A) (local.get $pc))
    (i32.store offset=@ST4@ (local.get $A) (local.get $steps))
    (i32.store offset=@ST8@ (local.get $A) (local.get $fbase))
    (i32.store offset=@ST12@ (local.get $A) (local.get $foff))
    (i32.store offset=@ST16@ (local.get $A) (i32.const 0xffe))
    (i32.store offset=@ST20@ (local.get $A) (local.get $hits))
    (local.get $kind)))
