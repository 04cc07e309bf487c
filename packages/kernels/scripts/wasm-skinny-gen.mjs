// Matrix products of the shapes convolutions make, where the packed GEMM (scripts/wasm-gen.mjs)
// spends its time packing and padding panels: a few rows against a very long depth (a weight
// gradient, `dot_nt`), or a short depth or few rows against very long rows (a convolution's
// forward and data gradient, `gemm_small`). Both read the operands where they lie, without
// packing. WebAssembly text; scripts/wasm-modules.mjs lists the two modules.

import { add, get, inc, mul, range, set, shl, whileLoop } from './wat.mjs';

/** Depth chunk of `dot_nt`: 512 floats (2 KiB) per operand row, so a block's rows stay in L1. */
export const DOT_KC = 512;

/**
 * `$dot_R_C(pa, pb, pc, k, kc, n)`: `C[r, s] += sum_t A[r, t] B[s, t]` for `r < R`, `s < C`,
 * `t < kc`, rows of A from byte address `pa`, rows of B from `pb`, both `k` floats apart; C rows
 * `n` floats apart from `pc`. Four lanes of float32 partial sums over the multiple-of-4 part,
 * added as (l0 + l1) + (l2 + l3), then the 0-3 last terms in order.
 */
function dotBlock(R, C) {
  const acc = (r, s) => `a${r}_${s}`;
  const locals = [
    ...range(R).flatMap((r) => range(C).map((s) => `(local $${acc(r, s)} v128)`)),
    ...range(R).map((r) => `(local $x${r} v128)`),
    ...range(R).flatMap((r) => range(C).map((s) => `(local $f${r}_${s} f32)`)),
  ].join(' ');
  const rowA = (r) => add(get('pa'), shl(mul(`(i32.const ${r})`, get('k')), 2));
  const rowB = (s) => add(get('pb'), shl(mul(`(i32.const ${s})`, get('k')), 2));
  const lane = (v, i) => `(f32x4.extract_lane ${i} ${v})`;
  const hsum = (v) => `(f32.add (f32.add ${lane(v, 0)} ${lane(v, 1)}) (f32.add ${lane(v, 2)} ${lane(v, 3)}))`;
  /** C element (r, s): pc + 4 (r n + s). */
  const cAddr = (r, s) =>
    add(add(get('pc'), `(i32.const ${4 * s})`), shl(mul(`(i32.const ${r})`, get('n')), 2));
  return `
  (func $dot_${R}_${C} (param $pa i32) (param $pb i32) (param $pc i32) (param $k i32) (param $kc i32) (param $n i32)
    (local $t i32) (local $o i32) (local $kc4 i32) (local $y v128) ${locals}
    ${set('kc4', `(i32.and ${get('kc')} (i32.const -4))`)}
    ${whileLoop(
      'T',
      `(i32.lt_s ${get('t')} ${get('kc4')})`,
      `${set('o', shl(get('t'), 2))}
      ${range(R)
        .map((r) => set(`x${r}`, `(v128.load ${add(rowA(r), get('o'))})`))
        .join('\n      ')}
      ${range(C)
        .map(
          (s) => `${set('y', `(v128.load ${add(rowB(s), get('o'))})`)}
      ${range(R)
        .map((r) => set(acc(r, s), `(f32x4.add ${get(acc(r, s))} (f32x4.mul ${get(`x${r}`)} ${get('y')}))`))
        .join('\n      ')}`,
        )
        .join('\n      ')}
      ${inc('t', 4)}`,
    )}
    ${range(R)
      .flatMap((r) => range(C).map((s) => set(`f${r}_${s}`, hsum(get(acc(r, s))))))
      .join('\n    ')}
    ${whileLoop(
      'U',
      `(i32.lt_s ${get('t')} ${get('kc')})`,
      `${set('o', shl(get('t'), 2))}
      ${range(R)
        .flatMap((r) =>
          range(C).map((s) =>
            set(
              `f${r}_${s}`,
              `(f32.add ${get(`f${r}_${s}`)} (f32.mul (f32.load ${add(rowA(r), get('o'))}) (f32.load ${add(rowB(s), get('o'))})))`,
            ),
          ),
        )
        .join('\n      ')}
      ${inc('t', 1)}`,
    )}
    ${range(R)
      .flatMap((r) =>
        range(C).map((s) => {
          const at = cAddr(r, s);
          return `(f32.store ${at} (f32.add (f32.load ${at}) ${get(`f${r}_${s}`)}))`;
        }),
      )
      .join('\n    ')})`;
}

/**
 * `dot_nt(a, b, c, m, n, k)`: `C = A B^T` for A `[m, k]` and B `[n, k]` (row-major, contiguous)
 * into C `[m, n]` (row-major, zero on entry): for each chunk of `DOT_KC` of the depth, blocks of
 * 2 rows of A by 4 rows of B (1 where fewer are left) add their dot products to C.
 */
function dotNt() {
  const call = (R, C) =>
    `(call $dot_${R}_${C} ${add(get('a'), shl(add(mul(get('i'), get('k')), get('k0')), 2))} ${add(
      get('b'),
      shl(add(mul(get('j'), get('k')), get('k0')), 2),
    )} ${add(get('c'), shl(add(mul(get('i'), get('n')), get('j')), 2))} ${get('k')} ${get('kc')} ${get('n')})`;
  const cols = (R) => `${set('j', '(i32.const 0)')}
          ${whileLoop(
            `J4${R}`,
            `(i32.le_s (i32.add ${get('j')} (i32.const 4)) ${get('n')})`,
            `${call(R, 4)}
            ${inc('j', 4)}`,
          )}
          ${whileLoop(
            `J1${R}`,
            `(i32.lt_s ${get('j')} ${get('n')})`,
            `${call(R, 1)}
            ${inc('j', 1)}`,
          )}`;
  return `
  (func $dot_nt (export "dot_nt") (param $a i32) (param $b i32) (param $c i32) (param $m i32) (param $n i32) (param $k i32)
    (local $k0 i32) (local $kc i32) (local $i i32) (local $j i32)
    ${whileLoop(
      'K',
      `(i32.lt_s ${get('k0')} ${get('k')})`,
      `${set('kc', `(i32.sub ${get('k')} ${get('k0')})`)}
      (if (i32.gt_s ${get('kc')} (i32.const ${DOT_KC})) (then ${set('kc', `(i32.const ${DOT_KC})`)}))
      ${set('i', '(i32.const 0)')}
      ${whileLoop(
        'I2',
        `(i32.le_s (i32.add ${get('i')} (i32.const 2)) ${get('m')})`,
        `${cols(2)}
        ${inc('i', 2)}`,
      )}
      (if (i32.lt_s ${get('i')} ${get('m')}) (then ${cols(1)}))
      ${inc('k0', get('kc'))}`,
    )})`;
}

/**
 * `$sm_R_V(pa, pb, pc, k, n, rsA, csA)`: `C[r, 4v + s] = sum_t A[r, t] B[t, 4v + s]` for `r < R`,
 * `v < V`, `s < 4`: A element `(r, t)` at byte address `pa + 4 (r rsA + t csA)`, B rows `n` floats
 * apart from `pb`, C rows `n` floats apart from `pc`. Float32 sums in order of `t`.
 */
function smallBlock(R, V) {
  const acc = (r, v) => `a${r}_${v}`;
  const locals = [
    ...range(R).flatMap((r) => range(V).map((v) => `(local $${acc(r, v)} v128)`)),
    ...range(V).map((v) => `(local $y${v} v128)`),
  ].join(' ');
  return `
  (func $sm_${R}_${V} (param $pa i32) (param $pb i32) (param $pc i32) (param $k i32) (param $n i32) (param $rsA i32) (param $csA i32)
    (local $t i32) (local $x v128) ${locals}
    ${whileLoop(
      'T',
      `(i32.lt_s ${get('t')} ${get('k')})`,
      `${range(V)
        .map((v) => set(`y${v}`, `(v128.load offset=${16 * v} ${get('pb')})`))
        .join('\n      ')}
      ${range(R)
        .map(
          (
            r,
          ) => `${set('x', `(v128.load32_splat ${add(get('pa'), shl(mul(`(i32.const ${r})`, get('rsA')), 2))})`)}
      ${range(V)
        .map((v) => set(acc(r, v), `(f32x4.add ${get(acc(r, v))} (f32x4.mul ${get('x')} ${get(`y${v}`)}))`))
        .join('\n      ')}`,
        )
        .join('\n      ')}
      ${inc('pa', shl(get('csA'), 2))}
      ${inc('pb', shl(get('n'), 2))}
      ${inc('t', 1)}`,
    )}
    ${range(R)
      .flatMap((r) =>
        range(V).map(
          (v) =>
            `(v128.store offset=${16 * v} ${add(get('pc'), shl(mul(`(i32.const ${r})`, get('n')), 2))} ${get(acc(r, v))})`,
        ),
      )
      .join('\n    ')})`;
}

/**
 * `gemm_small(a, b, c, m, n, k, rsA, csA)`: `C = A B` for A `[m, k]` read with strides
 * (`rsA`, `csA` floats: a transposed A is `rsA = 1, csA = m`), B `[k, n]` and C `[m, n]` row-major
 * and contiguous. Columns in blocks of 8, then 4 (SIMD), then one at a time; rows 4 at a time,
 * then 2, then 1; each block reads its columns of B for every row block
 * while they are in L1. Float32 sums
 * in order of the depth.
 */
function gemmSmall() {
  const blk = (R, V) =>
    `(call $sm_${R}_${V} ${add(get('a'), shl(mul(get('i'), get('rsA')), 2))} ${add(get('b'), shl(get('j'), 2))} ${add(
      get('c'),
      shl(add(mul(get('i'), get('n')), get('j')), 2),
    )} ${get('k')} ${get('n')} ${get('rsA')} ${get('csA')})`;
  const rows = (V) => `${set('i', '(i32.const 0)')}
        ${whileLoop(
          `R4${V}`,
          `(i32.le_s (i32.add ${get('i')} (i32.const 4)) ${get('m')})`,
          `${blk(4, V)}
          ${inc('i', 4)}`,
        )}
        (if (i32.le_s (i32.add ${get('i')} (i32.const 2)) ${get('m')})
          (then ${blk(2, V)}
          ${inc('i', 2)}))
        ${whileLoop(
          `R1${V}`,
          `(i32.lt_s ${get('i')} ${get('m')})`,
          `${blk(1, V)}
          ${inc('i', 1)}`,
        )}`;
  return `
  (func $gemm_small (export "gemm_small") (param $a i32) (param $b i32) (param $c i32) (param $m i32) (param $n i32) (param $k i32)
    (param $rsA i32) (param $csA i32)
    (local $i i32) (local $j i32) (local $t i32) (local $s f32) (local $pa i32) (local $pb i32)
    ${whileLoop(
      'J8',
      `(i32.le_s (i32.add ${get('j')} (i32.const 8)) ${get('n')})`,
      `${rows(2)}
      ${inc('j', 8)}`,
    )}
    ${whileLoop(
      'J4',
      `(i32.le_s (i32.add ${get('j')} (i32.const 4)) ${get('n')})`,
      `${rows(1)}
      ${inc('j', 4)}`,
    )}
    ${whileLoop(
      'J1',
      `(i32.lt_s ${get('j')} ${get('n')})`,
      `${set('i', '(i32.const 0)')}
      ${whileLoop(
        'RS',
        `(i32.lt_s ${get('i')} ${get('m')})`,
        `${set('s', '(f32.const 0)')}
        ${set('pa', add(get('a'), shl(mul(get('i'), get('rsA')), 2)))}
        ${set('pb', add(get('b'), shl(get('j'), 2)))}
        ${set('t', '(i32.const 0)')}
        ${whileLoop(
          'TS',
          `(i32.lt_s ${get('t')} ${get('k')})`,
          `${set('s', `(f32.add ${get('s')} (f32.mul (f32.load ${get('pa')}) (f32.load ${get('pb')})))`)}
          ${inc('pa', shl(get('csA'), 2))}
          ${inc('pb', shl(get('n'), 2))}
          ${inc('t', 1)}`,
        )}
        (f32.store ${add(get('c'), shl(add(mul(get('i'), get('n')), get('j')), 2))} ${get('s')})
        ${inc('i', 1)}`,
      )}
      ${inc('j', 1)}`,
    )})`;
}

/** The `dot` module's functions: `dot_nt` and its blocks. */
export function dotWat() {
  return [dotBlock(2, 4), dotBlock(2, 1), dotBlock(1, 4), dotBlock(1, 1), dotNt()].join('\n');
}

/** The `small` module's functions: `gemm_small` and its blocks. */
export function smallWat() {
  return [
    smallBlock(4, 2),
    smallBlock(2, 2),
    smallBlock(1, 2),
    smallBlock(4, 1),
    smallBlock(2, 1),
    smallBlock(1, 1),
    gemmSmall(),
  ].join('\n');
}
