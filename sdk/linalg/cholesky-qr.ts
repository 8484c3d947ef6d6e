/**
 * Orthonormalisation of tall fp32 matrices by CholeskyQR2, with every O(n³) and O(m n²) step on
 * the GEMM: Gram matrix in fp64 (row chunks → `matmul64`), inverse Cholesky factor by recursive
 * blocking (leaves of ≤ 192 in TypeScript, off-diagonal blocks through `matmul64`), then
 * `Q = Y · L⁻ᵀ` in fp32.
 *
 * Why not Householder QR: it is a sequence of rank-1 updates (BLAS-2) that would run in
 * TypeScript at ~1 GFLOP/s; for Y of 11008×1516 that is minutes, whereas CholeskyQR2 is all
 * BLAS-3 and costs about a second. CholeskyQR alone loses orthogonality like cond(Y)²·u; the
 * second pass restores it to O(u) as long as the first Cholesky succeeds (cond(Y) ≲ 1e7 with an
 * fp64 Gram). When it does not, we shift the Gram (shifted CholeskyQR3, Fukaya et al. 2020).
 */
import type { Gemm } from './gemm.js';

const LEAF = 192;

/** Thrown by the Cholesky leaf on a non-positive pivot (Gram numerically singular). */
export class NotPositiveDefiniteError extends Error {}

/** G = Yᵀ·Y in fp64 for row-major Y [rows, cols] (fp32), in row chunks of ≤ ~16 MB. */
export async function gramColumns(
  gemm: Gemm,
  y: Float32Array,
  rows: number,
  cols: number,
): Promise<Float64Array> {
  const g = new Float64Array(cols * cols);
  const chunk = Math.max(1, Math.floor((16 << 20) / (8 * Math.max(1, cols))));
  for (let r0 = 0; r0 < rows; r0 += chunk) {
    const r = Math.min(chunk, rows - r0);
    const part = Float64Array.from(y.subarray(r0 * cols, (r0 + r) * cols));
    const p = await gemm.matmul64(part, [r, cols], part, [r, cols], { transA: true });
    for (let i = 0; i < g.length; i++) g[i] += p[i];
  }
  return g;
}

/** G = X·Xᵀ in fp64 for row-major X [rows, cols] (fp32), in column chunks of ≤ ~16 MB. */
export async function gramRows(
  gemm: Gemm,
  x: Float32Array,
  rows: number,
  cols: number,
): Promise<Float64Array> {
  const g = new Float64Array(rows * rows);
  const chunk = Math.max(1, Math.floor((16 << 20) / (8 * Math.max(1, rows))));
  for (let c0 = 0; c0 < cols; c0 += chunk) {
    const c = Math.min(chunk, cols - c0);
    const part = new Float64Array(rows * c);
    for (let i = 0; i < rows; i++) {
      const src = i * cols + c0;
      const dst = i * c;
      for (let j = 0; j < c; j++) part[dst + j] = x[src + j];
    }
    const p = await gemm.matmul64(part, [rows, c], part, [rows, c], { transB: true });
    for (let i = 0; i < g.length; i++) g[i] += p[i];
  }
  return g;
}

function block(a: Float64Array, n: number, r0: number, r1: number, c0: number, c1: number): Float64Array {
  const w = c1 - c0;
  const out = new Float64Array((r1 - r0) * w);
  for (let i = r0; i < r1; i++) out.set(a.subarray(i * n + c0, i * n + c1), (i - r0) * w);
  return out;
}

function place(dst: Float64Array, n: number, src: Float64Array, r0: number, c0: number, w: number): void {
  const h = src.length / w;
  for (let i = 0; i < h; i++) dst.set(src.subarray(i * w, (i + 1) * w), (r0 + i) * n + c0);
}

/** Cholesky G = L·Lᵀ then L⁻¹, both in TypeScript; for leaf blocks only. */
function cholInverseLeaf(g: Float64Array, n: number): Float64Array {
  const l = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    const rj = j * n;
    let s = g[rj + j];
    for (let k = 0; k < j; k++) s -= l[rj + k] * l[rj + k];
    if (!(s > 0)) throw new NotPositiveDefiniteError(`non-positive pivot at ${j}`);
    const ljj = Math.sqrt(s);
    l[rj + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      const ri = i * n;
      let t = g[ri + j];
      for (let k = 0; k < j; k++) t -= l[ri + k] * l[rj + k];
      l[ri + j] = t / ljj;
    }
  }
  // Row i of X = L⁻¹ solves x·L = e_i; back-substitution as contiguous axpys over rows of L.
  const x = new Float64Array(n * n);
  const t = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    t.fill(0);
    t[i] = 1;
    const ri = i * n;
    for (let k = i; k >= 0; k--) {
      const v = t[k] / l[k * n + k];
      x[ri + k] = v;
      if (v !== 0) {
        const rk = k * n;
        for (let j = 0; j < k; j++) t[j] -= v * l[rk + j];
      }
    }
  }
  return x;
}

/**
 * X = L⁻¹ for the Cholesky factor of a symmetric positive definite G (n×n, row-major), by
 * recursive 2×2 blocking: X11 = L11⁻¹, L21 = G21·X11ᵀ, S = G22 − L21·L21ᵀ, X22 = chol⁻¹(S),
 * X21 = −X22·L21·X11. All four products go through the GEMM.
 *
 * @throws NotPositiveDefiniteError when G is not numerically positive definite.
 */
export async function choleskyInverse(gemm: Gemm, g: Float64Array, n: number): Promise<Float64Array> {
  if (n <= LEAF) return cholInverseLeaf(g, n);
  const n1 = n >> 1;
  const n2 = n - n1;
  const x11 = await choleskyInverse(gemm, block(g, n, 0, n1, 0, n1), n1);
  const g21 = block(g, n, n1, n, 0, n1);
  const l21 = await gemm.matmul64(g21, [n2, n1], x11, [n1, n1], { transB: true });
  const s = block(g, n, n1, n, n1, n);
  const p = await gemm.matmul64(l21, [n2, n1], l21, [n2, n1], { transB: true });
  for (let i = 0; i < s.length; i++) s[i] -= p[i];
  const x22 = await choleskyInverse(gemm, s, n2);
  const t = await gemm.matmul64(l21, [n2, n1], x11, [n1, n1]);
  const x21 = await gemm.matmul64(x22, [n2, n2], t, [n2, n1]);
  for (let i = 0; i < x21.length; i++) x21[i] = -x21[i];
  const x = new Float64Array(n * n);
  place(x, n, x11, 0, 0, n1);
  place(x, n, x21, n1, 0, n1);
  place(x, n, x22, n1, n1, n2);
  return x;
}

/**
 * Orthonormal basis of the column space of Y [rows, cols] (row-major fp32, rows ≥ cols), by
 * CholeskyQR repeated `passes` times (2 = CholeskyQR2). Returns a new array; Y is not modified.
 * If a Gram matrix is numerically singular, a small diagonal shift is added and one more pass
 * is made (shifted CholeskyQR3).
 *
 * @example
 * ```ts
 * const q = await orthonormalizeColumns(gemm, y, 4096, 1040, 2); // QᵀQ ≈ I to ~1e-6
 * ```
 */
export async function orthonormalizeColumns(
  gemm: Gemm,
  y: Float32Array,
  rows: number,
  cols: number,
  passes = 2,
): Promise<Float32Array> {
  let q = y;
  let remaining = passes;
  while (remaining > 0) {
    const g = await gramColumns(gemm, q, rows, cols);
    let x: Float64Array | undefined;
    for (let attempt = 0; x === undefined; attempt++) {
      try {
        x = await choleskyInverse(gemm, g, cols);
      } catch (e) {
        if (!(e instanceof NotPositiveDefiniteError) || attempt >= 6) throw e;
        // Start a little above fp32 rounding of the mean diagonal; grow until Cholesky succeeds.
        let trace = 0;
        for (let i = 0; i < cols; i++) trace += g[i * cols + i];
        const shift = (trace / cols) * 1e-6 * 100 ** attempt;
        for (let i = 0; i < cols; i++) g[i * cols + i] += shift;
        if (attempt === 0) remaining++;
      }
    }
    q = await gemm.matmul(q, [rows, cols], Float32Array.from(x), [cols, cols], { transB: true });
    remaining--;
  }
  return q === y ? Float32Array.from(y) : q;
}
