// Generates the WebAssembly text (WAT) of gradkit's SIMD kernels. The GEMM is the classic
// Goto/BLIS structure: op(B) is packed into column panels of NR floats per depth step, op(A) into
// row panels of MR floats per depth step, both for a block of KC depth steps; an MR x NR
// micro-kernel keeps MR * NR / 4 f32x4 accumulators in registers. Because the transposed operands
// only change how panels are packed (strides), A*B, A^T*B and A*B^T run the same inner loop.
//
// This file is a build tool: scripts/build-wasm.mjs assembles its output with wabt and writes
// src/backends/wasm/module.generated.ts. It is not shipped.
import { range } from './wat.mjs';

/** Register block: rows of A and columns of B per micro-kernel call, and the cache blocks. */
export const GEMM = { MR: 4, NR: 8, KC: 256, MC: 64 };

function microKernel({ MR, NR }, fma = false) {
  const NV = NR / 4;
  const accs = range(MR).flatMap((r) => range(NV).map((v) => `$c${r}_${v}`));
  const locals = [
    ...accs.map((x) => `(local ${x} v128)`),
    ...range(NV).map((v) => `(local $b${v} v128)`),
    '(local $a v128) (local $aend i32) (local $row i32) (local $r i32) (local $j i32) (local $t f32) (local $ldc4 i32)',
  ].join(' ');
  // one depth step u of the loop body (B panel offset NR * 4 * u, A panel offset MR * 4 * u)
  const step = (u) => {
    const body = [];
    for (let v = 0; v < NV; v++)
      body.push(`(local.set $b${v} (v128.load offset=${16 * v + NR * 4 * u} (local.get $bp)))`);
    for (let r = 0; r < MR; r++) {
      body.push(`(local.set $a (v128.load32_splat offset=${4 * r + MR * 4 * u} (local.get $ap)))`);
      for (let v = 0; v < NV; v++)
        body.push(
          fma
            ? // a * b + c, fused (one rounding) where the hardware has FMA; the engine picks one form and keeps it
              `(local.set $c${r}_${v} (f32x4.relaxed_madd (local.get $a) (local.get $b${v}) (local.get $c${r}_${v})))`
            : `(local.set $c${r}_${v} (f32x4.add (local.get $c${r}_${v}) (f32x4.mul (local.get $a) (local.get $b${v}))))`,
        );
    }
    return body.join('\n      ');
  };
  const loop = `(loop $L
      ${step(0)}
      (local.set $ap (i32.add (local.get $ap) (i32.const ${MR * 4})))
      (local.set $bp (i32.add (local.get $bp) (i32.const ${NR * 4})))
      (br_if $L (i32.lt_u (local.get $ap) (local.get $aend))))`;
  const fullStore = [];
  for (let r = 0; r < MR; r++) {
    for (let v = 0; v < NV; v++) {
      const val = `(local.get $c${r}_${v})`;
      fullStore.push(
        `(if (local.get $acc)
          (then (v128.store offset=${16 * v} (local.get $row) (f32x4.add (v128.load offset=${16 * v} (local.get $row)) ${val})))
          (else (v128.store offset=${16 * v} (local.get $row) ${val})))`,
      );
    }
    fullStore.push('(local.set $row (i32.add (local.get $row) (local.get $ldc4)))');
  }
  const tileStore = [];
  for (let r = 0; r < MR; r++)
    for (let v = 0; v < NV; v++)
      tileStore.push(`(v128.store offset=${(r * NR + 4 * v) * 4} (local.get $tile) (local.get $c${r}_${v}))`);
  return `
  ;; C[0:mr, 0:nr] (+)= Apanel(kc x MR) * Bpanel(kc x NR); a partial tile goes through $tile.
  (func $kernel (param $ap i32) (param $bp i32) (param $kc i32) (param $c i32) (param $ldc i32)
                (param $mr i32) (param $nr i32) (param $acc i32) (param $tile i32)
    ${locals}
    (local.set $ldc4 (i32.shl (local.get $ldc) (i32.const 2)))
    (local.set $aend (i32.add (local.get $ap) (i32.mul (local.get $kc) (i32.const ${MR * 4}))))
    ${loop}
    (local.set $row (local.get $c))
    (if (i32.and (i32.eq (local.get $mr) (i32.const ${MR})) (i32.eq (local.get $nr) (i32.const ${NR})))
      (then
        ${fullStore.join('\n        ')})
      (else
        ${tileStore.join('\n        ')}
        (local.set $r (i32.const 0))
        (loop $R
          (local.set $j (i32.const 0))
          (loop $J
            (local.set $t (f32.load (i32.add (local.get $tile) (i32.shl (i32.add (i32.mul (local.get $r) (i32.const ${NR})) (local.get $j)) (i32.const 2)))))
            (if (local.get $acc)
              (then (local.set $t (f32.add (local.get $t) (f32.load (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 2))))))))
            (f32.store (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 2))) (local.get $t))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br_if $J (i32.lt_u (local.get $j) (local.get $nr))))
          (local.set $row (i32.add (local.get $row) (local.get $ldc4)))
          (local.set $r (i32.add (local.get $r) (i32.const 1)))
          (br_if $R (i32.lt_u (local.get $r) (local.get $mr)))))))`;
}

function packB({ NR }) {
  const NV = NR / 4;
  const vec = range(NV)
    .map(
      (v) => `(v128.store offset=${16 * v} (local.get $dst) (v128.load offset=${16 * v} (local.get $src)))`,
    )
    .join(' ');
  return `
  ;; dst[jp][p][c] = op(B)[pc + p, jp * NR + c] (zero past n); op(B)[p, j] = B[p * rsB + j * csB].
  (func $pack_b (param $b i32) (param $rsB i32) (param $csB i32) (param $pc i32) (param $kc i32)
                (param $n i32) (param $dst i32)
    (local $j0 i32) (local $p i32) (local $c i32) (local $j i32) (local $src i32) (local $base i32)
    (local $d i32) (local $end i32)
    (local.set $j0 (i32.const 0))
    (loop $JP
      (if (i32.and (i32.eq (local.get $rsB) (i32.const 1)) (i32.le_u (i32.add (local.get $j0) (i32.const ${NR})) (local.get $n)))
        (then
          ;; B read transposed (each column of op(B) contiguous): copy column by column, reading
          ;; sequentially and writing with stride NR inside the panel (which stays in L1).
          (local.set $c (i32.const 0))
          (loop $TC
            (local.set $src (i32.add (local.get $b) (i32.shl (i32.add (local.get $pc)
              (i32.mul (i32.add (local.get $j0) (local.get $c)) (local.get $csB))) (i32.const 2))))
            (local.set $end (i32.add (local.get $src) (i32.shl (local.get $kc) (i32.const 2))))
            (local.set $d (i32.add (local.get $dst) (i32.shl (local.get $c) (i32.const 2))))
            (loop $TP
              (f32.store (local.get $d) (f32.load (local.get $src)))
              (local.set $src (i32.add (local.get $src) (i32.const 4)))
              (local.set $d (i32.add (local.get $d) (i32.const ${NR * 4})))
              (br_if $TP (i32.lt_u (local.get $src) (local.get $end))))
            (local.set $c (i32.add (local.get $c) (i32.const 1)))
            (br_if $TC (i32.lt_u (local.get $c) (i32.const ${NR}))))
          (local.set $dst (i32.add (local.get $dst) (i32.mul (local.get $kc) (i32.const ${NR * 4})))))
        (else
      (local.set $p (i32.const 0))
      (loop $P
        ;; byte address of op(B)[pc + p, j0]
        (local.set $base (i32.add (local.get $b) (i32.shl (i32.add
          (i32.mul (i32.add (local.get $pc) (local.get $p)) (local.get $rsB))
          (i32.mul (local.get $j0) (local.get $csB))) (i32.const 2))))
        (if (i32.and (i32.eq (local.get $csB) (i32.const 1)) (i32.le_u (i32.add (local.get $j0) (i32.const ${NR})) (local.get $n)))
          (then (local.set $src (local.get $base)) ${vec})
          (else
            (local.set $c (i32.const 0))
            (loop $C
              (local.set $j (i32.add (local.get $j0) (local.get $c)))
              (f32.store (i32.add (local.get $dst) (i32.shl (local.get $c) (i32.const 2)))
                (if (result f32) (i32.lt_u (local.get $j) (local.get $n))
                  (then (f32.load (i32.add (local.get $base) (i32.shl (i32.mul (local.get $c) (local.get $csB)) (i32.const 2)))))
                  (else (f32.const 0))))
              (local.set $c (i32.add (local.get $c) (i32.const 1)))
              (br_if $C (i32.lt_u (local.get $c) (i32.const ${NR}))))))
        (local.set $dst (i32.add (local.get $dst) (i32.const ${NR * 4})))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br_if $P (i32.lt_u (local.get $p) (local.get $kc))))))
      (local.set $j0 (i32.add (local.get $j0) (i32.const ${NR})))
      (br_if $JP (i32.lt_u (local.get $j0) (local.get $n)))))`;
}

function packA({ MR }) {
  const vec =
    MR % 4 === 0
      ? range(MR / 4)
          .map(
            (v) =>
              `(v128.store offset=${16 * v} (local.get $dst) (v128.load offset=${16 * v} (local.get $base)))`,
          )
          .join(' ')
      : null;
  const fast = vec
    ? `(if (i32.and (i32.eq (local.get $rsA) (i32.const 1)) (i32.eq (local.get $rows) (i32.const ${MR})))
          (then ${vec})
          (else (call $pack_a_col (local.get $base) (local.get $rsA) (local.get $rows) (local.get $dst))))`
    : '(call $pack_a_col (local.get $base) (local.get $rsA) (local.get $rows) (local.get $dst))';
  return `
  ;; One depth step of a row panel: dst[r] = A[base + r * rsA] for r < rows, 0 after.
  (func $pack_a_col (param $base i32) (param $rsA i32) (param $rows i32) (param $dst i32)
    (local $r i32)
    (local.set $r (i32.const 0))
    (loop $R
      (f32.store (i32.add (local.get $dst) (i32.shl (local.get $r) (i32.const 2)))
        (if (result f32) (i32.lt_u (local.get $r) (local.get $rows))
          (then (f32.load (i32.add (local.get $base) (i32.shl (i32.mul (local.get $r) (local.get $rsA)) (i32.const 2)))))
          (else (f32.const 0))))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br_if $R (i32.lt_u (local.get $r) (i32.const ${MR})))))

  ;; dst[ip][p][r] = op(A)[ic + ip * MR + r, pc + p] (zero past mc); op(A)[i, p] = A[i * rsA + p * csA].
  (func $pack_a (param $a i32) (param $rsA i32) (param $csA i32) (param $ic i32) (param $mc i32)
                (param $pc i32) (param $kc i32) (param $dst i32)
    (local $i0 i32) (local $rows i32) (local $p i32) (local $base i32)
    (local.set $i0 (i32.const 0))
    (loop $IP
      (local.set $rows (i32.sub (local.get $mc) (local.get $i0)))
      (if (i32.gt_u (local.get $rows) (i32.const ${MR})) (then (local.set $rows (i32.const ${MR}))))
      (local.set $p (i32.const 0))
      (loop $P
        (local.set $base (i32.add (local.get $a) (i32.shl (i32.add
          (i32.mul (i32.add (local.get $ic) (local.get $i0)) (local.get $rsA))
          (i32.mul (i32.add (local.get $pc) (local.get $p)) (local.get $csA))) (i32.const 2))))
        ${fast}
        (local.set $dst (i32.add (local.get $dst) (i32.const ${MR * 4})))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br_if $P (i32.lt_u (local.get $p) (local.get $kc))))
      (local.set $i0 (i32.add (local.get $i0) (i32.const ${MR})))
      (br_if $IP (i32.lt_u (local.get $i0) (local.get $mc)))))`;
}

function gemm({ MR, NR, KC, MC }) {
  return `
  ;; C (m x n, row stride ldc) = op(A) (m x k) * op(B) (k x n), all float32, byte addresses.
  ;; op(A)[i, p] = A[i * rsA + p * csA], op(B)[p, j] = B[p * rsB + j * csB]; m, n, k >= 1.
  ;; ws: workspace of gemm_workspace(n) bytes, 16-byte aligned, private to the caller.
  (func $gemm (export "gemm") (param $a i32) (param $b i32) (param $c i32) (param $m i32) (param $n i32)
              (param $k i32) (param $rsA i32) (param $csA i32) (param $rsB i32) (param $csB i32)
              (param $ldc i32) (param $ws i32)
    (local $pc i32) (local $kc i32) (local $ic i32) (local $mc i32) (local $j0 i32) (local $i0 i32)
    (local $np i32) (local $bpack i32) (local $apack i32) (local $nr i32) (local $mr i32) (local $acc i32)
    (local.set $np (i32.div_u (i32.add (local.get $n) (i32.const ${NR - 1})) (i32.const ${NR})))
    (local.set $bpack (i32.add (local.get $ws) (i32.const ${MR * NR * 4})))
    (local.set $apack (i32.add (local.get $bpack) (i32.mul (local.get $np) (i32.const ${KC * NR * 4}))))
    (local.set $pc (i32.const 0))
    (loop $PC
      (local.set $kc (i32.sub (local.get $k) (local.get $pc)))
      (if (i32.gt_u (local.get $kc) (i32.const ${KC})) (then (local.set $kc (i32.const ${KC}))))
      (local.set $acc (i32.ne (local.get $pc) (i32.const 0)))
      (call $pack_b (local.get $b) (local.get $rsB) (local.get $csB) (local.get $pc) (local.get $kc) (local.get $n) (local.get $bpack))
      (local.set $ic (i32.const 0))
      (loop $IC
        (local.set $mc (i32.sub (local.get $m) (local.get $ic)))
        (if (i32.gt_u (local.get $mc) (i32.const ${MC})) (then (local.set $mc (i32.const ${MC}))))
        (call $pack_a (local.get $a) (local.get $rsA) (local.get $csA) (local.get $ic) (local.get $mc) (local.get $pc) (local.get $kc) (local.get $apack))
        (local.set $j0 (i32.const 0))
        (loop $JR
          (local.set $nr (i32.sub (local.get $n) (local.get $j0)))
          (if (i32.gt_u (local.get $nr) (i32.const ${NR})) (then (local.set $nr (i32.const ${NR}))))
          (local.set $i0 (i32.const 0))
          (loop $IR
            (local.set $mr (i32.sub (local.get $mc) (local.get $i0)))
            (if (i32.gt_u (local.get $mr) (i32.const ${MR})) (then (local.set $mr (i32.const ${MR}))))
            (call $kernel
              (i32.add (local.get $apack) (i32.mul (local.get $i0) (i32.shl (local.get $kc) (i32.const 2))))
              (i32.add (local.get $bpack) (i32.mul (local.get $j0) (i32.shl (local.get $kc) (i32.const 2))))
              (local.get $kc)
              (i32.add (local.get $c) (i32.shl (i32.add (i32.mul (i32.add (local.get $ic) (local.get $i0)) (local.get $ldc)) (local.get $j0)) (i32.const 2)))
              (local.get $ldc) (local.get $mr) (local.get $nr) (local.get $acc) (local.get $ws))
            (local.set $i0 (i32.add (local.get $i0) (i32.const ${MR})))
            (br_if $IR (i32.lt_u (local.get $i0) (local.get $mc))))
          (local.set $j0 (i32.add (local.get $j0) (i32.const ${NR})))
          (br_if $JR (i32.lt_u (local.get $j0) (local.get $n))))
        (local.set $ic (i32.add (local.get $ic) (i32.const ${MC})))
        (br_if $IC (i32.lt_u (local.get $ic) (local.get $m))))
      (local.set $pc (i32.add (local.get $pc) (i32.const ${KC})))
      (br_if $PC (i32.lt_u (local.get $pc) (local.get $k)))))

  ;; Workspace bytes gemm needs for a given n.
  (func (export "gemm_workspace") (param $n i32) (result i32)
    (i32.add (i32.const ${MR * NR * 4 + Math.ceil(MC / MR) * MR * KC * 4})
      (i32.mul (i32.div_u (i32.add (local.get $n) (i32.const ${NR - 1})) (i32.const ${NR})) (i32.const ${KC * NR * 4}))))`;
}

function sumLead() {
  return `
  ;; out[j] = sum over i < rows of x[i * n + j], accumulated in float64 in row order (the plain-JS
  ;; backend's order and precision, so both give the same float32 result). acc: n float64 scratch.
  (func $sum_lead (export "sum_lead") (param $x i32) (param $out i32) (param $rows i32) (param $n i32) (param $acc i32)
    (local $i i32) (local $j i32) (local $n4 i32) (local $v v128) (local $a i32) (local $p i32)
    (local.set $n4 (i32.and (local.get $n) (i32.const -4)))
    (local.set $j (i32.const 0))
    (loop $Z
      (f64.store (i32.add (local.get $acc) (i32.shl (local.get $j) (i32.const 3))) (f64.const 0))
      (local.set $j (i32.add (local.get $j) (i32.const 1)))
      (br_if $Z (i32.lt_u (local.get $j) (local.get $n))))
    (local.set $p (local.get $x))
    (local.set $i (i32.const 0))
    (loop $I
      (local.set $j (i32.const 0))
      (local.set $a (local.get $acc))
      (if (i32.gt_u (local.get $n4) (i32.const 0))
        (then
          (loop $J
            (local.set $v (v128.load (local.get $p)))
            (v128.store (local.get $a) (f64x2.add (v128.load (local.get $a)) (f64x2.promote_low_f32x4 (local.get $v))))
            (v128.store offset=16 (local.get $a) (f64x2.add (v128.load offset=16 (local.get $a))
              (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $v) (local.get $v)))))
            (local.set $p (i32.add (local.get $p) (i32.const 16)))
            (local.set $a (i32.add (local.get $a) (i32.const 32)))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))
            (br_if $J (i32.lt_u (local.get $j) (local.get $n4))))))
      (if (i32.lt_u (local.get $j) (local.get $n))
        (then
          (loop $T
            (f64.store (local.get $a) (f64.add (f64.load (local.get $a)) (f64.promote_f32 (f32.load (local.get $p)))))
            (local.set $p (i32.add (local.get $p) (i32.const 4)))
            (local.set $a (i32.add (local.get $a) (i32.const 8)))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br_if $T (i32.lt_u (local.get $j) (local.get $n))))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $I (i32.lt_u (local.get $i) (local.get $rows))))
    (local.set $j (i32.const 0))
    (loop $O
      (f32.store (i32.add (local.get $out) (i32.shl (local.get $j) (i32.const 2)))
        (f32.demote_f64 (f64.load (i32.add (local.get $acc) (i32.shl (local.get $j) (i32.const 3))))))
      (local.set $j (i32.add (local.get $j) (i32.const 1)))
      (br_if $O (i32.lt_u (local.get $j) (local.get $n)))))`;
}

/**
 * Statements computing e^x in f32x4 for the v128 in local `$<v>` into `$<v>` (Cephes' expf, the
 * same constants and steps as the JIT's `exp` in src/backends/wasm/jit.ts, so both round alike):
 * x clamped to [-104, 89], x = n ln 2 + r, a degree-6 polynomial, times 2^(n >> 1) 2^(n - (n >> 1)).
 * Uses the v128 locals `$en $er $eni $en1`.
 */
function exp4(v) {
  const sp = (c) => `(f32x4.splat (f32.const ${c}))`;
  const g = (l) => `(local.get $${l})`;
  let poly = sp('1.98756915e-4');
  for (const c of [
    '1.3981999507e-3',
    '8.3334519073e-3',
    '4.1665795894e-2',
    '1.6666665459e-1',
    '5.0000001201e-1',
  ])
    poly = `(f32x4.add (f32x4.mul ${poly} ${g('er')}) ${sp(c)})`;
  const pow2 = (k) => `(i32x4.shl (i32x4.add ${k} (i32x4.splat (i32.const 127))) (i32.const 23))`;
  return `(local.set $${v} (f32x4.min (f32x4.max ${g(v)} ${sp('-104')}) ${sp('89')}))
      (local.set $en (f32x4.nearest (f32x4.mul ${g(v)} ${sp('1.4426950408889634')})))
      (local.set $er (f32x4.sub (f32x4.sub ${g(v)} (f32x4.mul ${g('en')} ${sp('0.693359375')})) (f32x4.mul ${g('en')} ${sp('-2.1219444e-4')})))
      (local.set $${v} (f32x4.add (f32x4.add (f32x4.mul (f32x4.mul ${poly} ${g('er')}) ${g('er')}) ${g('er')}) ${sp('1')}))
      (local.set $eni (i32x4.trunc_sat_f32x4_s ${g('en')}))
      (local.set $en1 (i32x4.shr_s ${g('eni')} (i32.const 1)))
      (local.set $${v} (f32x4.mul (f32x4.mul ${g(v)} ${pow2(g('en1'))}) ${pow2(`(i32x4.sub ${g('eni')} ${g('en1')})`)}))`;
}

/**
 * Statements folding the row [$p, $end) into the f32 `$m` with `f32x4.${op}` / `f32.${op}` (NaN
 * propagating; the sign of a zero result is not the JavaScript path's, callers rescan for it).
 * Leaves `$q` at `$end`.
 */
function foldRow(op) {
  const id = op === 'max' ? '-inf' : 'inf';
  return `(local.set $a (f32x4.splat (f32.const ${id})))
      (local.set $b (local.get $a))
      (local.set $q (local.get $p))
      (block $B8 (loop $L8
        (br_if $B8 (i32.gt_u (i32.add (local.get $q) (i32.const 32)) (local.get $end)))
        (local.set $a (f32x4.${op} (local.get $a) (v128.load (local.get $q))))
        (local.set $b (f32x4.${op} (local.get $b) (v128.load offset=16 (local.get $q))))
        (local.set $q (i32.add (local.get $q) (i32.const 32)))
        (br $L8)))
      (if (i32.le_u (i32.add (local.get $q) (i32.const 16)) (local.get $end))
        (then
          (local.set $a (f32x4.${op} (local.get $a) (v128.load (local.get $q))))
          (local.set $q (i32.add (local.get $q) (i32.const 16)))))
      (local.set $a (f32x4.${op} (local.get $a) (local.get $b)))
      (local.set $m (f32.${op}
        (f32.${op} (f32x4.extract_lane 0 (local.get $a)) (f32x4.extract_lane 1 (local.get $a)))
        (f32.${op} (f32x4.extract_lane 2 (local.get $a)) (f32x4.extract_lane 3 (local.get $a)))))
      (block $BT (loop $LT
        (br_if $BT (i32.ge_u (local.get $q) (local.get $end)))
        (local.set $m (f32.${op} (local.get $m) (f32.load (local.get $q))))
        (local.set $q (i32.add (local.get $q) (i32.const 4)))
        (br $LT)))`;
}

/** The row loop shared by the row kernels: `$p` walks the rows of `$n` floats, `$o` the outputs. */
function perRow(name, params, locals, body) {
  return `
  (func $${name} (export "${name}") (param $x i32) (param $out i32) (param $rows i32) (param $n i32) ${params}
    (local $p i32) (local $end i32) (local $o i32) (local $q i32) ${locals}
    (local.set $p (local.get $x))
    (local.set $o (local.get $out))
    (local.set $end (i32.add (local.get $x) (i32.shl (local.get $n) (i32.const 2))))
    (loop $R
      ${body}
      (local.set $p (local.get $end))
      (local.set $end (i32.add (local.get $end) (i32.shl (local.get $n) (i32.const 2))))
      (local.set $o (i32.add (local.get $o) (i32.const 4)))
      (br_if $R (i32.lt_u (local.get $o) (i32.add (local.get $out) (i32.shl (local.get $rows) (i32.const 2))))))
  )`;
}

/**
 * Row reductions over the last axis of a contiguous [rows, n] array (n >= 1, rows >= 1), each
 * giving the JavaScript path's result (CpuBackend's reduceRow):
 * - `row_max` / `row_min` (`$arg` 0: the value, 1: its first index as a float): SIMD fold; when it
 *   is NaN or a zero (the only cases where equal-comparing values differ in bits or the first one
 *   matters), or for the index, a SIMD search finds the first element equal to it (or the first NaN).
 * - `row_sum`: float64 sums. The SIMD pass adds in f64x2 lanes and also finds max |x| and the
 *   smallest nonzero |x|; when n max|x| < 2^29 min|x|, every partial sum in any order is a
 *   multiple of min|x|'s last bit below 2^53 of them, hence exact, so the lane order gives the
 *   sequential sum bit for bit. Otherwise (a wide range, Inf, NaN) the row is summed again in
 *   order, as JavaScript does.
 * - `row_lse_parts`: per row the max m (to out) and s = sum exp(x - m) in float64 (to the f64 array
 *   at $acc; 1 when m is not finite), exp in f32x4 as the JIT's; the caller finishes m + log(s).
 */
function rowKernels() {
  const ext = (op) =>
    perRow(
      `row_${op}`,
      '(param $arg i32)',
      '(local $a v128) (local $b v128) (local $m f32) (local $ms v128) (local $v v128)',
      `${foldRow(op)}
      (if (i32.or (local.get $arg) (i32.or (f32.ne (local.get $m) (local.get $m)) (f32.eq (local.get $m) (f32.const 0))))
        (then
          ;; the first element equal to m, or the first NaN (there is one exactly when m is NaN)
          (local.set $ms (f32x4.splat (local.get $m)))
          (local.set $q (local.get $p))
          (block $F (loop $LF
            (br_if $F (i32.gt_u (i32.add (local.get $q) (i32.const 16)) (local.get $end)))
            (local.set $v (v128.load (local.get $q)))
            (br_if $F (v128.any_true (v128.or (f32x4.eq (local.get $v) (local.get $ms)) (f32x4.ne (local.get $v) (local.get $v)))))
            (local.set $q (i32.add (local.get $q) (i32.const 16)))
            (br $LF)))
          (block $G (loop $LG
            (local.set $m (f32.load (local.get $q)))
            (br_if $G (i32.or (f32.eq (local.get $m) (f32x4.extract_lane 0 (local.get $ms))) (f32.ne (local.get $m) (local.get $m))))
            (local.set $q (i32.add (local.get $q) (i32.const 4)))
            (br $LG)))
          (if (local.get $arg)
            (then (local.set $m (f32.convert_i32_u (i32.shr_u (i32.sub (local.get $q) (local.get $p)) (i32.const 2))))))))
      (f32.store (local.get $o) (local.get $m))`,
    );
  const sum = perRow(
    'row_sum',
    '',
    '(local $v v128) (local $av v128) (local $s0 v128) (local $s1 v128) (local $mx v128) (local $mn v128) (local $s f64) (local $t f32) (local $at f32) (local $hi f32) (local $lo f32)',
    `(local.set $s0 (v128.const i64x2 0 0))
      (local.set $s1 (v128.const i64x2 0 0))
      (local.set $mx (v128.const i64x2 0 0))
      (local.set $mn (f32x4.splat (f32.const inf)))
      (local.set $q (local.get $p))
      (block $B (loop $L
        (br_if $B (i32.gt_u (i32.add (local.get $q) (i32.const 16)) (local.get $end)))
        (local.set $v (v128.load (local.get $q)))
        (local.set $s0 (f64x2.add (local.get $s0) (f64x2.promote_low_f32x4 (local.get $v))))
        (local.set $s1 (f64x2.add (local.get $s1)
          (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $v) (local.get $v)))))
        (local.set $av (f32x4.abs (local.get $v)))
        (local.set $mx (f32x4.max (local.get $mx) (local.get $av)))
        (local.set $mn (f32x4.min (local.get $mn)
          (v128.bitselect (f32x4.splat (f32.const inf)) (local.get $av) (f32x4.eq (local.get $av) (v128.const i64x2 0 0)))))
        (local.set $q (i32.add (local.get $q) (i32.const 16)))
        (br $L)))
      (local.set $s (f64.add
        (f64.add (f64x2.extract_lane 0 (local.get $s0)) (f64x2.extract_lane 1 (local.get $s0)))
        (f64.add (f64x2.extract_lane 0 (local.get $s1)) (f64x2.extract_lane 1 (local.get $s1)))))
      (local.set $hi (f32.max
        (f32.max (f32x4.extract_lane 0 (local.get $mx)) (f32x4.extract_lane 1 (local.get $mx)))
        (f32.max (f32x4.extract_lane 2 (local.get $mx)) (f32x4.extract_lane 3 (local.get $mx)))))
      (local.set $lo (f32.min
        (f32.min (f32x4.extract_lane 0 (local.get $mn)) (f32x4.extract_lane 1 (local.get $mn)))
        (f32.min (f32x4.extract_lane 2 (local.get $mn)) (f32x4.extract_lane 3 (local.get $mn)))))
      (block $BT (loop $LT
        (br_if $BT (i32.ge_u (local.get $q) (local.get $end)))
        (local.set $t (f32.load (local.get $q)))
        (local.set $s (f64.add (local.get $s) (f64.promote_f32 (local.get $t))))
        (local.set $at (f32.abs (local.get $t)))
        (local.set $hi (f32.max (local.get $hi) (local.get $at)))
        (if (f32.ne (local.get $at) (f32.const 0)) (then (local.set $lo (f32.min (local.get $lo) (local.get $at)))))
        (local.set $q (i32.add (local.get $q) (i32.const 4)))
        (br $LT)))
      (if (i32.eqz (f64.lt (f64.mul (f64.convert_i32_u (local.get $n)) (f64.promote_f32 (local.get $hi)))
                           (f64.mul (f64.const 0x1p29) (f64.promote_f32 (local.get $lo)))))
        (then
          ;; not provably exact in any order: add in order, as JavaScript does
          (local.set $s (f64.const 0))
          (local.set $q (local.get $p))
          (loop $S
            (local.set $s (f64.add (local.get $s) (f64.promote_f32 (f32.load (local.get $q)))))
            (local.set $q (i32.add (local.get $q) (i32.const 4)))
            (br_if $S (i32.lt_u (local.get $q) (local.get $end))))))
      (f32.store (local.get $o) (f32.demote_f64 (local.get $s)))`,
  );
  const lse = perRow(
    'row_lse_parts',
    '(param $acc i32)',
    '(local $a v128) (local $b v128) (local $m f32) (local $ms v128) (local $v v128) (local $s0 v128) (local $s1 v128) (local $s f64) (local $en v128) (local $er v128) (local $eni v128) (local $en1 v128) (local $k i32)',
    `${foldRow('max')}
      (f32.store (local.get $o) (local.get $m))
      (local.set $s (f64.const 1))
      (if (f32.lt (f32.abs (local.get $m)) (f32.const inf))
        (then
          (local.set $ms (f32x4.splat (local.get $m)))
          (local.set $s0 (v128.const i64x2 0 0))
          (local.set $s1 (v128.const i64x2 0 0))
          (local.set $q (local.get $p))
          ;; four lanes at a time; the last step reads only what is left and masks the other lanes
          (loop $L
            (local.set $k (i32.shr_s (i32.sub (local.get $end) (local.get $q)) (i32.const 2)))
            (if (i32.ge_s (local.get $k) (i32.const 4))
              (then (local.set $v (v128.load (local.get $q))))
              (else
                (local.set $v (local.get $ms))
                (local.set $v (f32x4.replace_lane 0 (local.get $v) (f32.load (local.get $q))))
                (if (i32.gt_s (local.get $k) (i32.const 1))
                  (then (local.set $v (f32x4.replace_lane 1 (local.get $v) (f32.load offset=4 (local.get $q))))))
                (if (i32.gt_s (local.get $k) (i32.const 2))
                  (then (local.set $v (f32x4.replace_lane 2 (local.get $v) (f32.load offset=8 (local.get $q))))))))
            (local.set $v (f32x4.sub (local.get $v) (local.get $ms)))
            ${exp4('v')}
            (local.set $v (v128.and (local.get $v) (i32x4.gt_s (i32x4.splat (local.get $k)) (v128.const i32x4 0 1 2 3))))
            (local.set $s0 (f64x2.add (local.get $s0) (f64x2.promote_low_f32x4 (local.get $v))))
            (local.set $s1 (f64x2.add (local.get $s1)
              (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $v) (local.get $v)))))
            (local.set $q (i32.add (local.get $q) (i32.const 16)))
            (br_if $L (i32.lt_u (local.get $q) (local.get $end))))
          (local.set $s (f64.add
            (f64.add (f64x2.extract_lane 0 (local.get $s0)) (f64x2.extract_lane 1 (local.get $s0)))
            (f64.add (f64x2.extract_lane 0 (local.get $s1)) (f64x2.extract_lane 1 (local.get $s1)))))))
      (f64.store (i32.add (local.get $acc) (i32.shl (i32.sub (local.get $o) (local.get $out)) (i32.const 1))) (local.get $s))`,
  );
  return [ext('max'), ext('min'), sum, lse].join('\n');
}

/**
 * The GEMM module's functions: `gemm` and `gemm_workspace` (see `gemm` above). With `fma` the
 * micro-kernel multiplies and adds with relaxed SIMD's `f32x4.relaxed_madd` (needs the
 * relaxed_simd feature; same packing and blocking, so the same workspace and slabs).
 */
export function gemmWat(g = GEMM, { fma = false } = {}) {
  if (g.NR % 4 !== 0) throw new Error('NR must be a multiple of 4');
  return [microKernel(g, fma), packB(g), packA(g), gemm(g)].join('\n');
}

/** The row module's functions: `sum_lead`, `row_max`, `row_min`, `row_sum`, `row_lse_parts`. */
export function rowsWat() {
  return [sumLead(), rowKernels()].join('\n');
}

/**
 * The softmax cross-entropy module, per row of a contiguous [rows, n] array:
 * - `sce_probs` (the forward pass, as `perRow`: x, out, rows, n, then probs, acc): the row's max m
 *   into `out`, e = exp(x - m) (f32x4, the JIT's exp), its float64 sum s into the f64 array `acc`
 *   (the same lanes and order as `row_lse_parts`, so the caller's m + log(s) is logsumexp's value
 *   bit for bit), and the probabilities e * f32(1 / s) into `probs`; a row whose m is not finite
 *   (a NaN, +Infinity, or only -Infinity) gets s = 1 and NaN probabilities.
 * - `sce_grad` (the backward pass): out[i, j] = s_i * (p[i, j] - q) with s_i = scale * dy[i * dyStep]
 *   (float32), q = $q1 at the row's label (labels[i] an integer in [0, n)), else $q0; each step
 *   rounded to float32 in the order of the composed kernels, so it gives their values bit for bit.
 * The last partial vector of a row is read and written lane by lane.
 */
export function softmaxWat() {
  const lane = (k, body) => `(if (i32.gt_s (local.get $k) (i32.const ${k})) (then ${body}))`;
  /** Reads the 1-3 floats at `$${ptr}` into `$v` (other lanes from `fill`), `$k` = how many. */
  const loadTail = (
    ptr,
    fill,
  ) => `(local.set $v (f32x4.replace_lane 0 ${fill} (f32.load (local.get $${ptr}))))
          ${lane(1, `(local.set $v (f32x4.replace_lane 1 (local.get $v) (f32.load offset=4 (local.get $${ptr}))))`)}
          ${lane(2, `(local.set $v (f32x4.replace_lane 2 (local.get $v) (f32.load offset=8 (local.get $${ptr}))))`)}`;
  const storeTail = (ptr) => `(f32.store (local.get $${ptr}) (f32x4.extract_lane 0 (local.get $v)))
          ${lane(1, `(f32.store offset=4 (local.get $${ptr}) (f32x4.extract_lane 1 (local.get $v)))`)}
          ${lane(2, `(f32.store offset=8 (local.get $${ptr}) (f32x4.extract_lane 2 (local.get $v)))`)}`;
  /** Applies `body` (computing `$v` from `$v`) to the row [$p, $end) into [$w, ...). */
  const rowMap = (body) => `(local.set $q (local.get $p))
      (local.set $w (i32.add (local.get $probs) (i32.sub (local.get $p) (local.get $x))))
      (block $MB (loop $ML
        (br_if $MB (i32.gt_u (i32.add (local.get $q) (i32.const 16)) (local.get $end)))
        (local.set $v (v128.load (local.get $q)))
        ${body}
        (v128.store (local.get $w) (local.get $v))
        (local.set $q (i32.add (local.get $q) (i32.const 16)))
        (local.set $w (i32.add (local.get $w) (i32.const 16)))
        (br $ML)))
      (local.set $k (i32.shr_s (i32.sub (local.get $end) (local.get $q)) (i32.const 2)))
      (if (i32.gt_s (local.get $k) (i32.const 0))
        (then
          ${loadTail('q', '(local.get $ms)')}
          ${body}
          ${storeTail('w')}))`;
  const probs = perRow(
    'sce_probs',
    '(param $probs i32) (param $acc i32)',
    '(local $a v128) (local $b v128) (local $m f32) (local $ms v128) (local $v v128) (local $s0 v128) (local $s1 v128) (local $s f64) (local $en v128) (local $er v128) (local $eni v128) (local $en1 v128) (local $k i32) (local $w i32)',
    `${foldRow('max')}
      (f32.store (local.get $o) (local.get $m))
      (local.set $s (f64.const 1))
      (if (f32.lt (f32.abs (local.get $m)) (f32.const inf))
        (then
          (local.set $ms (f32x4.splat (local.get $m)))
          (local.set $s0 (v128.const i64x2 0 0))
          (local.set $s1 (v128.const i64x2 0 0))
          ;; e = exp(x - m) into probs; the masked lanes of the last step add nothing to the sums
          ${rowMap(`(local.set $v (f32x4.sub (local.get $v) (local.get $ms)))
            ${exp4('v')}
            (local.set $v (v128.and (local.get $v) (i32x4.gt_s (i32x4.splat (i32.shr_s (i32.sub (local.get $end) (local.get $q)) (i32.const 2))) (v128.const i32x4 0 1 2 3))))
            (local.set $s0 (f64x2.add (local.get $s0) (f64x2.promote_low_f32x4 (local.get $v))))
            (local.set $s1 (f64x2.add (local.get $s1)
              (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $v) (local.get $v)))))`)}
          (local.set $s (f64.add
            (f64.add (f64x2.extract_lane 0 (local.get $s0)) (f64x2.extract_lane 1 (local.get $s0)))
            (f64.add (f64x2.extract_lane 0 (local.get $s1)) (f64x2.extract_lane 1 (local.get $s1)))))
          ;; p = e * f32(1 / s), in place
          (local.set $ms (f32x4.splat (f32.demote_f64 (f64.div (f64.const 1) (local.get $s)))))
          (local.set $w (i32.add (local.get $probs) (i32.sub (local.get $p) (local.get $x))))
          (local.set $q (i32.add (local.get $w) (i32.shl (local.get $n) (i32.const 2))))
          (block $NB (loop $NL
            (br_if $NB (i32.gt_u (i32.add (local.get $w) (i32.const 16)) (local.get $q)))
            (v128.store (local.get $w) (f32x4.mul (v128.load (local.get $w)) (local.get $ms)))
            (local.set $w (i32.add (local.get $w) (i32.const 16)))
            (br $NL)))
          (block $NT (loop $NTL
            (br_if $NT (i32.ge_u (local.get $w) (local.get $q)))
            (f32.store (local.get $w) (f32.mul (f32.load (local.get $w)) (f32x4.extract_lane 0 (local.get $ms))))
            (local.set $w (i32.add (local.get $w) (i32.const 4)))
            (br $NTL))))
        (else
          (local.set $ms (f32x4.splat (f32.const nan)))
          ${rowMap('(local.set $v (local.get $ms))')}))
      (f64.store (i32.add (local.get $acc) (i32.shl (i32.sub (local.get $o) (local.get $out)) (i32.const 1))) (local.get $s))`,
  );
  return `${probs}
  (func $sce_grad (export "sce_grad") (param $probs i32) (param $labels i32) (param $dy i32)
                  (param $out i32) (param $rows i32) (param $n i32) (param $dyStep i32)
                  (param $scale f32) (param $q0 f32) (param $q1 f32)
    (local $i i32) (local $p i32) (local $o i32) (local $end i32) (local $k i32) (local $y f32) (local $j i32)
    (local $ss v128) (local $qs v128) (local $v v128) (local $s f32)
    (local.set $qs (f32x4.splat (local.get $q0)))
    (local.set $p (local.get $probs))
    (local.set $o (local.get $out))
    (local.set $i (i32.const 0))
    (loop $R
      (local.set $s (f32.mul (local.get $scale)
        (f32.load (i32.add (local.get $dy) (i32.shl (i32.mul (local.get $i) (local.get $dyStep)) (i32.const 2))))))
      (local.set $ss (f32x4.splat (local.get $s)))
      (local.set $end (i32.add (local.get $p) (i32.shl (local.get $n) (i32.const 2))))
      (block $B (loop $L
        (br_if $B (i32.gt_u (i32.add (local.get $p) (i32.const 16)) (local.get $end)))
        (v128.store (local.get $o) (f32x4.mul (local.get $ss) (f32x4.sub (v128.load (local.get $p)) (local.get $qs))))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (local.set $o (i32.add (local.get $o) (i32.const 16)))
        (br $L)))
      (local.set $k (i32.shr_s (i32.sub (local.get $end) (local.get $p)) (i32.const 2)))
      (if (i32.gt_s (local.get $k) (i32.const 0))
        (then
          ${loadTail('p', '(local.get $qs)')}
          (local.set $v (f32x4.mul (local.get $ss) (f32x4.sub (local.get $v) (local.get $qs))))
          ${storeTail('o')}))
      ;; the label's element: the same steps with q1
      (local.set $y (f32.load (i32.add (local.get $labels) (i32.shl (local.get $i) (i32.const 2)))))
      (if (i32.and (i32.and (f32.ge (local.get $y) (f32.const 0)) (f32.lt (local.get $y) (f32.convert_i32_u (local.get $n))))
                   (f32.eq (local.get $y) (f32.trunc (local.get $y))))
        (then
          (local.set $j (i32.shl (i32.add (i32.mul (local.get $i) (local.get $n)) (i32.trunc_f32_u (local.get $y))) (i32.const 2)))
          (f32.store (i32.add (local.get $out) (local.get $j))
            (f32.mul (local.get $s) (f32.sub (f32.load (i32.add (local.get $probs) (local.get $j))) (local.get $q1))))))
      (local.set $p (local.get $end))
      (local.set $o (i32.add (local.get $out) (i32.sub (local.get $end) (local.get $probs))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $R (i32.lt_u (local.get $i) (local.get $rows)))))`;
}

/**
 * A whole module from the functions `body` returns: it imports the one memory every module of
 * the backend shares, `env.memory`, `shared` or not (a memory's shared flag must match its import
 * exactly, so each module is built in both variants).
 */
export function moduleWat(body, { shared }) {
  return `(module
  (import "env" "memory" (memory 1 65536${shared ? ' shared' : ''}))
  ${body}
)
`;
}
