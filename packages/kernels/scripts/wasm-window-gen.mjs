// The window kernels of the wasm backend as WebAssembly text: the block loops behind
// WasmBackend.window / windowScatterAdd / transpose (im2col, col2im, permutes) and the fused
// windowMax / windowScatterAt (max pooling and its backward). The odometer over the outer output
// axes stays in JavaScript (src/backends/cpu-window.ts, `forEachBlock`); a call here does one
// block of rows, so its cost is spread over m x n elements. Every kernel gives the JavaScript
// path's values bit for bit: reads are copies, scatters add float32 terms to float64 sums in the
// same order, and the max compares in the same order with the same NaN and tie rules.

import { add, get, inc, mul, set, shl, whileLoop } from './wat.mjs';

/**
 * `win_read(src, dst, m, n, d2, d, lo, hi, jlo, jhi, pad, m3, d3)`: `m3` blocks of `m` rows of
 * `n` floats written to `dst` (byte address, contiguous). Row `j` of block `i` reads the input
 * from byte address `src + 4 (i d3 + j d2)` with element step `d`: for `jlo <= j < jhi`, element `t` is `pad` below `lo`,
 * the input at `t d` for `lo <= t < hi`, and `pad` from `hi`; every other row is all `pad`.
 * Steps are in elements and may be negative (addresses wrap as i32, only valid reads happen).
 */
function winRead() {
  return `
  (func $fill (param $p i32) (param $cnt i32) (param $pad f32)
    ${whileLoop(
      'F',
      `(i32.gt_s ${get('cnt')} (i32.const 0))`,
      `(f32.store ${get('p')} ${get('pad')})
        ${inc('p', 4)}
        ${inc('cnt', -1)}`,
    )})
  (func $win_read (export "win_read") (param $src i32) (param $dst i32) (param $m i32) (param $n i32)
    (param $d2 i32) (param $d i32) (param $lo i32) (param $hi i32) (param $jlo i32) (param $jhi i32) (param $pad f32)
    (param $m3 i32) (param $d3 i32)
    (local $j i32) (local $q i32) (local $w i32) (local $e i32) (local $i3 i32) (local $blk i32)
    ${set('blk', get('src'))}
    ${whileLoop(
      'K',
      `(i32.lt_s ${get('i3')} ${get('m3')})`,
      `${set('src', get('blk'))}
    ${set('j', '(i32.const 0)')}
    ${whileLoop(
      'J',
      `(i32.lt_s ${get('j')} ${get('m')})`,
      `(if (i32.and (i32.ge_s ${get('j')} ${get('jlo')}) (i32.lt_s ${get('j')} ${get('jhi')}))
          (then
            (if (i32.gt_s ${get('lo')} (i32.const 0)) (then (call $fill ${get('dst')} ${get('lo')} ${get('pad')})))
            ${set('q', add(get('src'), shl(mul(get('lo'), get('d')), 2)))}
            ${set('w', add(get('dst'), shl(get('lo'), 2)))}
            ${set('e', add(get('dst'), shl(get('hi'), 2)))}
            (if (i32.eq ${get('d')} (i32.const 1))
              (then ${whileLoop(
                'V1',
                `(i32.le_s ${add(get('w'), '(i32.const 16)')} ${get('e')})`,
                `(v128.store ${get('w')} (v128.load ${get('q')}))
                ${inc('q', 16)}
                ${inc('w', 16)}`,
              )}
              ;; a tail of 1-3 floats in a run of at least 4: one last vector overlapping the one before
              (if (i32.and (i32.lt_u ${get('w')} ${get('e')}) (i32.ge_s (i32.sub ${get('hi')} ${get('lo')}) (i32.const 4)))
                (then
                  (v128.store (i32.sub ${get('e')} (i32.const 16))
                    (v128.load (i32.sub ${add(get('q'), `(i32.sub ${get('e')} ${get('w')})`)} (i32.const 16))))
                  ${set('w', get('e'))}))))
            (if (i32.eq ${get('d')} (i32.const 2))
              (then ${whileLoop(
                'V2',
                `(i32.le_s ${add(get('w'), '(i32.const 16)')} ${get('e')})`,
                `(v128.store ${get('w')} (i8x16.shuffle 0 1 2 3 8 9 10 11 20 21 22 23 28 29 30 31
                  (v128.load ${get('q')}) (v128.load offset=12 ${get('q')})))
                ${inc('q', 32)}
                ${inc('w', 16)}`,
              )}))
            ${whileLoop(
              'S',
              `(i32.lt_s ${get('w')} ${get('e')})`,
              `(f32.store ${get('w')} (f32.load ${get('q')}))
                ${inc('q', shl(get('d'), 2))}
                ${inc('w', 4)}`,
            )}
            (if (i32.lt_s ${get('hi')} ${get('n')}) (then (call $fill ${get('e')} (i32.sub ${get('n')} ${get('hi')}) ${get('pad')}))))
          (else (call $fill ${get('dst')} ${get('n')} ${get('pad')})))
        ${inc('dst', shl(get('n'), 2))}
        ${inc('src', shl(get('d2'), 2))}
        ${inc('j', 1)}`,
    )}
    ${inc('blk', shl(get('d3'), 2))}
    ${inc('i3', 1)}`,
    )})`;
}

/**
 * `win_scatter(dy, acc, m, n, d2, d, lo, hi, jlo, jhi, m3, d3)`: the adjoint of `win_read` on
 * float64 sums: for each block `i < m3`, `jlo <= j < jhi` and `lo <= t < hi`,
 * `acc[i d3 + j d2 + t d] += dy[(i m + j) n + t]` (`acc` the first block's float64 base address,
 * `dy` its float32 address), in row-major order.
 */
function winScatter() {
  const addPair = (w, off, v) =>
    `(v128.store offset=${off} ${w} (f64x2.add (v128.load offset=${off} ${w}) (f64x2.promote_low_f32x4 ${v})))`;
  return `
  (func $win_scatter (export "win_scatter") (param $dy i32) (param $acc i32) (param $m i32) (param $n i32)
    (param $d2 i32) (param $d i32) (param $lo i32) (param $hi i32) (param $jlo i32) (param $jhi i32)
    (param $m3 i32) (param $d3 i32)
    (local $j i32) (local $q i32) (local $w i32) (local $e i32) (local $v v128) (local $i3 i32) (local $bdy i32) (local $bacc i32)
    ${set('bdy', get('dy'))}
    ${set('bacc', get('acc'))}
    ${whileLoop(
      'K',
      `(i32.lt_s ${get('i3')} ${get('m3')})`,
      `${set('j', get('jlo'))}
    ${set('dy', add(get('bdy'), shl(mul(get('jlo'), get('n')), 2)))}
    ${set('acc', add(get('bacc'), shl(mul(get('jlo'), get('d2')), 3)))}
    ${whileLoop(
      'J',
      `(i32.lt_s ${get('j')} ${get('jhi')})`,
      `${set('q', add(get('dy'), shl(get('lo'), 2)))}
        ${set('e', add(get('dy'), shl(get('hi'), 2)))}
        ${set('w', add(get('acc'), shl(mul(get('lo'), get('d')), 3)))}
        (if (i32.eq ${get('d')} (i32.const 1))
          (then ${whileLoop(
            'V',
            `(i32.le_s ${add(get('q'), '(i32.const 16)')} ${get('e')})`,
            `${set('v', `(v128.load ${get('q')})`)}
            ${addPair(get('w'), 0, get('v'))}
            ${addPair(get('w'), 16, `(i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 ${get('v')} ${get('v')})`)}
            ${inc('q', 16)}
            ${inc('w', 32)}`,
          )}))
        ${whileLoop(
          'S',
          `(i32.lt_s ${get('q')} ${get('e')})`,
          `(f64.store ${get('w')} (f64.add (f64.load ${get('w')}) (f64.promote_f32 (f32.load ${get('q')}))))
            ${inc('q', 4)}
            ${inc('w', shl(get('d'), 3))}`,
        )}
        ${inc('dy', shl(get('n'), 2))}
        ${inc('acc', shl(get('d2'), 3))}
        ${inc('j', 1)}`,
    )}
    ${inc('bdy', shl(mul(get('m'), get('n')), 2))}
    ${inc('bacc', shl(get('d3'), 3))}
    ${inc('i3', 1)}`,
    )})
  ;; out[i] = acc[i] rounded to float32, for i < n
  (func $f64_to_f32 (export "f64_to_f32") (param $acc i32) (param $out i32) (param $n i32)
    (local $e i32)
    ${set('e', add(get('out'), shl(get('n'), 2)))}
    ${whileLoop(
      'V',
      `(i32.le_s ${add(get('out'), '(i32.const 16)')} ${get('e')})`,
      `(v128.store ${get('out')} (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
          (f32x4.demote_f64x2_zero (v128.load ${get('acc')})) (f32x4.demote_f64x2_zero (v128.load offset=16 ${get('acc')}))))
        ${inc('acc', 32)}
        ${inc('out', 16)}`,
    )}
    ${whileLoop(
      'S',
      `(i32.lt_s ${get('out')} ${get('e')})`,
      `(f32.store ${get('out')} (f32.demote_f64 (f64.load ${get('acc')})))
        ${inc('acc', 8)}
        ${inc('out', 4)}`,
    )})`;
}

/**
 * `win_max(x, mx, ix, rows, nrows, row, step, taps, K)`: windows in `nrows` rows of `row`
 * windows; row `i`'s first window has tap 0 at element `rows[i]` (an i32 table) and each next one
 * is `step` elements further; tap `t` of a window is `taps[t]` elements from its start (i32
 * table, `K` taps). Writes each window's maximum to `mx` and the first tap holding it to `ix` (as
 * a float), contiguous in row-major order. Taps are compared in order: a later tap replaces the
 * best when it is greater, or when it is NaN and the best is not (so the first NaN wins, and of
 * equal values, zeros of either sign included, the first). Four windows at a time in SIMD when
 * `step` is 1 or 2 and a row has at least 4 windows (the last group of a row overlapping the one
 * before), else one at a time; both branch-free.
 */
function winMax() {
  const tapAddr = (t) => add(get('b'), shl(`(i32.load ${add(get('taps'), shl(t, 2))})`, 2));
  const take = (v, best) =>
    `(v128.or (f32x4.gt ${v} ${best}) (v128.and (f32x4.ne ${v} ${v}) (f32x4.eq ${best} ${best})))`;
  const load = {
    1: (q) => `(v128.load ${q})`,
    2: (q) =>
      `(i8x16.shuffle 0 1 2 3 8 9 10 11 20 21 22 23 28 29 30 31 (v128.load ${q}) (v128.load offset=12 ${q}))`,
  };
  const vectorLoop = (s) => `(if (i32.eq ${get('step')} (i32.const ${s}))
          (then ${whileLoop(
            `V${s}`,
            `(i32.and (i32.lt_s ${get('j')} ${get('row')}) (i32.ge_s ${get('row')} (i32.const 4)))`,
            `(if (i32.gt_s (i32.add ${get('j')} (i32.const 4)) ${get('row')})
              (then
                ;; the last group overlaps the one before: windows recomputed, the same values
                ${set('t', `(i32.sub (i32.sub ${get('row')} (i32.const 4)) ${get('j')})`)}
                ${inc('b', shl(get('t'), 2 + (s === 2 ? 1 : 0)))}
                ${inc('mx', shl(get('t'), 2))}
                ${inc('ix', shl(get('t'), 2))}
                ${inc('j', get('t'))}))
            ${set('best', load[s](tapAddr('(i32.const 0)')))}
            ${set('bi', '(v128.const i32x4 0 0 0 0)')}
            ${set('t', '(i32.const 1)')}
            ${whileLoop(
              `T${s}`,
              `(i32.lt_s ${get('t')} ${get('K')})`,
              `${set('v', load[s](tapAddr(get('t'))))}
              ${set('c', take(get('v'), get('best')))}
              ${set('best', `(v128.bitselect ${get('v')} ${get('best')} ${get('c')})`)}
              ${set('bi', `(v128.bitselect (i32x4.splat ${get('t')}) ${get('bi')} ${get('c')})`)}
              ${inc('t', 1)}`,
            )}
            (v128.store ${get('mx')} ${get('best')})
            (v128.store ${get('ix')} (f32x4.convert_i32x4_s ${get('bi')}))
            ${inc('mx', 16)}
            ${inc('ix', 16)}
            ${inc('b', 16 * s)}
            ${inc('j', 4)}`,
          )}))`;
  return `
  (func $win_max (export "win_max") (param $x i32) (param $mx i32) (param $ix i32) (param $rows i32) (param $nrows i32)
    (param $row i32) (param $step i32) (param $taps i32) (param $K i32)
    (local $i i32) (local $j i32) (local $t i32) (local $b i32) (local $sb f32) (local $sv f32) (local $si i32)
    (local $best v128) (local $bi v128) (local $v v128) (local $c v128)
    ${whileLoop(
      'I',
      `(i32.lt_s ${get('i')} ${get('nrows')})`,
      `${set('b', add(get('x'), shl(`(i32.load ${add(get('rows'), shl(get('i'), 2))})`, 2)))}
        ${set('j', '(i32.const 0)')}
        ${vectorLoop(1)}
        ${vectorLoop(2)}
        ${whileLoop(
          'W',
          `(i32.lt_s ${get('j')} ${get('row')})`,
          `${set('sb', `(f32.load ${tapAddr('(i32.const 0)')})`)}
          ${set('si', '(i32.const 0)')}
          ${set('t', '(i32.const 1)')}
          ${whileLoop(
            'U',
            `(i32.lt_s ${get('t')} ${get('K')})`,
            `${set('sv', `(f32.load ${tapAddr(get('t'))})`)}
            ${set('c', `(i32x4.splat (i32.or (f32.gt ${get('sv')} ${get('sb')}) (i32.and (f32.ne ${get('sv')} ${get('sv')}) (f32.eq ${get('sb')} ${get('sb')}))))`)}
            ${set('sb', `(select ${get('sv')} ${get('sb')} (i32x4.extract_lane 0 ${get('c')}))`)}
            ${set('si', `(select ${get('t')} ${get('si')} (i32x4.extract_lane 0 ${get('c')}))`)}
            ${inc('t', 1)}`,
          )}
          (f32.store ${get('mx')} ${get('sb')})
          (f32.store ${get('ix')} (f32.convert_i32_s ${get('si')}))
          ${inc('mx', 4)}
          ${inc('ix', 4)}
          ${inc('b', shl(get('step'), 2))}
          ${inc('j', 1)}`,
        )}
        ${inc('i', 1)}`,
    )})`;
}

/**
 * `win_pick(dy, ix, acc, rows, nrows, row, step, taps, K)`: the adjoint of `win_max`'s pick, on
 * float64 sums: for each window `o` in order, `acc[start(o) + taps[ix[o]]] += dy[o]` when `ix[o]`
 * is an integer in `[0, K)` (anything else adds nothing).
 */
function winPick() {
  return `
  (func $win_pick (export "win_pick") (param $dy i32) (param $ix i32) (param $acc i32) (param $rows i32) (param $nrows i32)
    (param $row i32) (param $step i32) (param $taps i32) (param $K i32)
    (local $i i32) (local $j i32) (local $b i32) (local $f f32) (local $a i32)
    ${whileLoop(
      'I',
      `(i32.lt_s ${get('i')} ${get('nrows')})`,
      `${set('b', `(i32.load ${add(get('rows'), shl(get('i'), 2))})`)}
        ${set('j', '(i32.const 0)')}
        ${whileLoop(
          'J',
          `(i32.lt_s ${get('j')} ${get('row')})`,
          `${set('f', `(f32.load ${get('ix')})`)}
          (if (i32.and (i32.and (f32.ge ${get('f')} (f32.const 0)) (f32.lt ${get('f')} (f32.convert_i32_s ${get('K')})))
                (f32.eq (f32.floor ${get('f')}) ${get('f')}))
            (then
              ${set('a', add(get('acc'), shl(add(get('b'), `(i32.load ${add(get('taps'), shl('(i32.trunc_f32_s (local.get $f))', 2))})`), 3)))}
              (f64.store ${get('a')} (f64.add (f64.load ${get('a')}) (f64.promote_f32 (f32.load ${get('dy')}))))))
          ${inc('dy', 4)}
          ${inc('ix', 4)}
          ${inc('b', get('step'))}
          ${inc('j', 1)}`,
        )}
        ${inc('i', 1)}`,
    )})`;
}

/** The window module's functions: `win_read`, `win_scatter`, `f64_to_f32`, `win_max`, `win_pick`. */
export function windowWat() {
  return [winRead(), winScatter(), winMax(), winPick()].join('\n');
}
