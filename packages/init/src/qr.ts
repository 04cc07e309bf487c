// Internal: the orthogonal matrix PyTorch's orthogonal_ derives from a normal matrix.

/**
 * PyTorch's `orthogonal_` recipe on a given row-major `rows x cols` matrix `a` (the normal draws),
 * in float64: if rows < cols, work on a^T; factor it as Q R by Householder reflections (thin Q,
 * m x n with m >= n); multiply each column j of Q by sign(R[j][j]) (so the factorization has a
 * positive diagonal, which makes Q Haar-distributed: Mezzadri 2007); transpose back; scale by
 * `gain`. Returns the row-major `rows x cols` result.
 */
export function orthogonalFromNormal(
  a: ArrayLike<number>,
  rows: number,
  cols: number,
  gain: number,
): Float64Array {
  const tall = rows >= cols;
  const m = tall ? rows : cols;
  const n = tall ? cols : rows;
  // r: m x n column-major copy of the (possibly transposed) matrix, so columns are contiguous.
  const r = new Float64Array(m * n);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      const v = a[i * cols + j];
      if (tall) r[j * m + i] = v;
      else r[i * m + j] = v;
    }
  }
  const vs: (Float64Array | null)[] = [];
  const vnorm2: number[] = [];
  const diag = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const col = k * m;
    let norm2 = 0;
    for (let i = k; i < m; i++) norm2 += r[col + i] * r[col + i];
    const norm = Math.sqrt(norm2);
    const x0 = r[col + k];
    const alpha = x0 >= 0 ? -norm : norm; // H x = alpha e1, sign chosen against cancellation
    const v = new Float64Array(m - k);
    for (let i = k; i < m; i++) v[i - k] = r[col + i];
    v[0] -= alpha;
    let vv = 0;
    for (let i = 0; i < v.length; i++) vv += v[i] * v[i];
    if (vv === 0) {
      vs.push(null);
      vnorm2.push(0);
      diag[k] = x0;
      continue;
    }
    for (let j = k; j < n; j++) {
      const cj = j * m;
      let s = 0;
      for (let i = k; i < m; i++) s += v[i - k] * r[cj + i];
      const f = (2 * s) / vv;
      for (let i = k; i < m; i++) r[cj + i] -= f * v[i - k];
    }
    vs.push(v);
    vnorm2.push(vv);
    diag[k] = r[col + k];
  }
  // Q = H_0 H_1 ... H_{n-1} [I_n; 0], column-major m x n.
  const q = new Float64Array(m * n);
  for (let j = 0; j < n; j++) q[j * m + j] = 1;
  for (let k = n - 1; k >= 0; k--) {
    const v = vs[k];
    if (!v) continue;
    for (let j = 0; j < n; j++) {
      const cj = j * m;
      let s = 0;
      for (let i = k; i < m; i++) s += v[i - k] * q[cj + i];
      const f = (2 * s) / vnorm2[k];
      if (f !== 0) for (let i = k; i < m; i++) q[cj + i] -= f * v[i - k];
    }
  }
  // Sign correction d = sign(diag(R)) (a zero diagonal, probability 0, keeps its column), then
  // back to row-major rows x cols: element (i, j) is Q[i][j] if tall, else Q[j][i].
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      const qi = tall ? i : j; // row of Q
      const qj = tall ? j : i; // column of Q
      const sign = diag[qj] < 0 ? -1 : 1;
      out[i * cols + j] = gain * sign * q[qj * m + qi];
    }
  }
  return out;
}
