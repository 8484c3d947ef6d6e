/** Shared helpers for the linalg tests (not exported from index.ts). */
import { seededUniform } from './random.js';

/** Naive row-major reference product op(A)·op(B) in fp64. */
export function naiveMatmul(
  a: ArrayLike<number>,
  aShape: [number, number],
  b: ArrayLike<number>,
  bShape: [number, number],
  transA = false,
  transB = false,
): Float64Array {
  const [m, k] = transA ? [aShape[1], aShape[0]] : aShape;
  const n = transB ? bShape[0] : bShape[1];
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let t = 0; t < k; t++) {
        const av = transA ? a[t * aShape[1] + i] : a[i * aShape[1] + t];
        const bv = transB ? b[j * bShape[1] + t] : b[t * bShape[1] + j];
        s += av * bv;
      }
      out[i * n + j] = s;
    }
  }
  return out;
}

export function randomArray(length: number, seed: number): Float64Array {
  const u = seededUniform(seed);
  const out = new Float64Array(length);
  for (let i = 0; i < length; i++) out[i] = u() * 2 - 1;
  return out;
}

/** max |QᵀQ − I| over the k columns of Q [rows, k] (row-major). */
export function orthonormalityError(q: ArrayLike<number>, rows: number, k: number): number {
  let worst = 0;
  for (let i = 0; i < k; i++) {
    for (let j = i; j < k; j++) {
      let s = 0;
      for (let r = 0; r < rows; r++) s += q[r * k + i] * q[r * k + j];
      worst = Math.max(worst, Math.abs(s - (i === j ? 1 : 0)));
    }
  }
  return worst;
}

/** Transpose of a row-major [rows, cols] array. */
export function transpose(a: ArrayLike<number>, rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = a[i * cols + j];
  return out;
}

/** Random [rows, cols] matrix with orthonormal columns (modified Gram–Schmidt, twice). */
export function randomOrthonormal(rows: number, cols: number, seed: number): Float64Array {
  const g = transpose(randomArray(rows * cols, seed), rows, cols); // columns as rows
  for (let pass = 0; pass < 2; pass++) {
    for (let j = 0; j < cols; j++) {
      const rj = j * rows;
      for (let i = 0; i < j; i++) {
        const ri = i * rows;
        let d = 0;
        for (let t = 0; t < rows; t++) d += g[ri + t] * g[rj + t];
        for (let t = 0; t < rows; t++) g[rj + t] -= d * g[ri + t];
      }
      let nrm = 0;
      for (let t = 0; t < rows; t++) nrm += g[rj + t] ** 2;
      nrm = Math.sqrt(nrm);
      for (let t = 0; t < rows; t++) g[rj + t] /= nrm;
    }
  }
  return transpose(g, cols, rows);
}

/** U·diag(s)·Vᵀ for U [m, r], V [n, r] (both column-orthonormal), row-major [m, n]. */
export function fromFactors(
  u: Float64Array,
  s: ArrayLike<number>,
  v: Float64Array,
  m: number,
  n: number,
): Float64Array {
  const r = s.length;
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let t = 0; t < r; t++) {
      const c = u[i * r + t] * s[t];
      if (c === 0) continue;
      for (let j = 0; j < n; j++) out[i * n + j] += c * v[j * r + t];
    }
  }
  return out;
}
