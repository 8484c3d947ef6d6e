/**
 * Dense symmetric eigen-decomposition in Float64: Householder tridiagonalisation (EISPACK tred2)
 * followed by the implicit QL algorithm with Wilkinson-style shifts (tql2), as in JAMA.
 *
 * Layout trick: JAMA walks the lower triangle column by column (`V[k][j]` with k varying), which is
 * a stride-n walk in row-major storage. We run the same algorithm on `W = Vᵀ`, so every O(n³) inner
 * loop (the Householder mat-vec, the rank-2 update, the accumulation, and every QL rotation) reads
 * and writes contiguous rows. On V8 this is what makes the difference: a stride-n loop over a
 * Float64Array misses cache on every element for n ≥ ~512.
 */
import { InvalidInputError } from '../errors/errors.js';

export interface SymmetricEigenResult {
  /** Eigenvalues, descending. */
  values: Float64Array;
  /**
   * Eigenvectors, n×n row-major; **column j** is the unit eigenvector of `values[j]`
   * (`vectors[i * n + j]` is its i-th component), so `A · V = V · diag(values)`.
   */
  vectors: Float64Array;
}

/**
 * Eigen-decomposition of a symmetric matrix (only symmetry up to rounding is assumed; the
 * algorithm reads the upper triangle).
 *
 * @example
 * ```ts
 * const { values, vectors } = symmetricEigen(new Float64Array([2, 1, 1, 2]), 2);
 * // values ≈ [3, 1]; column 0 of vectors ≈ ±[0.7071, 0.7071]
 * ```
 */
export function symmetricEigen(a: Float64Array, n: number): SymmetricEigenResult {
  if (!Number.isInteger(n) || n < 0 || a.length !== n * n) {
    throw new InvalidInputError('symmetricEigen: a must be n×n', { n, length: a.length });
  }
  const { d, w } = symmetricEigenRows(a, n);
  // Rows of w are eigenvectors for d[row]; sort descending and transpose to the column convention.
  const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => d[y] - d[x]);
  const values = new Float64Array(n);
  const vectors = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    const src = order[j];
    values[j] = d[src];
    const row = src * n;
    for (let i = 0; i < n; i++) vectors[i * n + j] = w[row + i];
  }
  return { values, vectors };
}

/**
 * Same decomposition, returned as rows: `rows[j * n + i]` is component i of the eigenvector of
 * `values[j]` (descending). Avoids the final transpose when the caller wants Vᵀ anyway.
 */
export function symmetricEigenRows(a: Float64Array, n: number): { d: Float64Array; w: Float64Array } {
  const w = Float64Array.from(a); // W = Aᵀ = A; see the file comment.
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  if (n === 0) return { d, w };
  tred2(w, d, e, n);
  tql2(w, d, e, n);
  return { d, w };
}

/** Householder reduction to tridiagonal form; on exit row j of w is basis vector j of Q. */
function tred2(w: Float64Array, d: Float64Array, e: Float64Array, n: number): void {
  for (let j = 0; j < n; j++) d[j] = w[j * n + n - 1];
  for (let i = n - 1; i > 0; i--) {
    let scale = 0;
    let h = 0;
    for (let k = 0; k < i; k++) scale += Math.abs(d[k]);
    if (scale === 0) {
      e[i] = d[i - 1];
      for (let j = 0; j < i; j++) {
        d[j] = w[j * n + i - 1];
        w[j * n + i] = 0;
        w[i * n + j] = 0;
      }
    } else {
      for (let k = 0; k < i; k++) {
        d[k] /= scale;
        h += d[k] * d[k];
      }
      let f = d[i - 1];
      let g = Math.sqrt(h);
      if (f > 0) g = -g;
      e[i] = scale * g;
      h -= f * g;
      d[i - 1] = f - g;
      for (let j = 0; j < i; j++) e[j] = 0;
      // p = A·u over the active block, reading only the upper triangle of w row by row:
      // row j contributes a dot product to e[j] and an axpy into e[j+1..i-1].
      const wi = i * n;
      for (let j = 0; j < i; j++) {
        f = d[j];
        w[wi + j] = f;
        const rj = j * n;
        g = e[j] + w[rj + j] * f;
        for (let k = j + 1; k < i; k++) {
          const v = w[rj + k];
          g += v * d[k];
          e[k] += v * f;
        }
        e[j] = g;
      }
      f = 0;
      for (let j = 0; j < i; j++) {
        e[j] /= h;
        f += e[j] * d[j];
      }
      const hh = f / (h + h);
      for (let j = 0; j < i; j++) e[j] -= hh * d[j];
      // Rank-2 update of the upper triangle, one contiguous row segment at a time.
      for (let j = 0; j < i; j++) {
        f = d[j];
        g = e[j];
        const rj = j * n;
        for (let k = j; k < i; k++) w[rj + k] -= f * e[k] + g * d[k];
        d[j] = w[rj + i - 1];
        w[rj + i] = 0;
      }
    }
    d[i] = h;
  }
  // Accumulate the transformations: row i+1 of w holds Householder vector i+1.
  for (let i = 0; i < n - 1; i++) {
    const ri = i * n;
    w[ri + n - 1] = w[ri + i];
    w[ri + i] = 1;
    const h = d[i + 1];
    const u = (i + 1) * n;
    if (h !== 0) {
      for (let k = 0; k <= i; k++) d[k] = w[u + k] / h;
      for (let j = 0; j <= i; j++) {
        const rj = j * n;
        let g = 0;
        for (let k = 0; k <= i; k++) g += w[u + k] * w[rj + k];
        for (let k = 0; k <= i; k++) w[rj + k] -= g * d[k];
      }
    }
    for (let k = 0; k <= i; k++) w[u + k] = 0;
  }
  for (let j = 0; j < n; j++) {
    d[j] = w[j * n + n - 1];
    w[j * n + n - 1] = 0;
  }
  w[n * n - 1] = 1;
  e[0] = 0;
}

function hypot(a: number, b: number): number {
  // Math.hypot is several times slower in V8 and overflow-safety beyond this is not needed.
  const x = Math.abs(a);
  const y = Math.abs(b);
  if (x > y) {
    const r = y / x;
    return x * Math.sqrt(1 + r * r);
  }
  if (y === 0) return 0;
  const r = x / y;
  return y * Math.sqrt(1 + r * r);
}

/** Implicit QL on the tridiagonal (d, e); rotations are applied to contiguous rows of w. */
function tql2(w: Float64Array, d: Float64Array, e: Float64Array, n: number): void {
  for (let i = 1; i < n; i++) e[i - 1] = e[i];
  e[n - 1] = 0;
  let f = 0;
  let tst1 = 0;
  const eps = 2 ** -52;
  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(d[l]) + Math.abs(e[l]));
    let m = l;
    while (m < n) {
      if (Math.abs(e[m]) <= eps * tst1) break;
      m++;
    }
    if (m > l) {
      let iter = 0;
      do {
        if (++iter > 60) throw new Error('symmetricEigen: QL iteration did not converge');
        let g = d[l];
        let p = (d[l + 1] - g) / (2 * e[l]);
        let r = hypot(p, 1);
        if (p < 0) r = -r;
        d[l] = e[l] / (p + r);
        d[l + 1] = e[l] * (p + r);
        const dl1 = d[l + 1];
        let h = g - d[l];
        for (let i = l + 2; i < n; i++) d[i] -= h;
        f += h;
        p = d[m];
        let c = 1;
        let c2 = c;
        let c3 = c;
        const el1 = e[l + 1];
        let s = 0;
        let s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i];
          h = c * p;
          r = hypot(p, e[i]);
          e[i + 1] = s * r;
          s = e[i] / r;
          c = p / r;
          p = c * d[i] - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]);
          rotateRows(w, i * n, (i + 1) * n, n, c, s);
        }
        p = (-s * s2 * c3 * el1 * e[l]) / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (Math.abs(e[l]) > eps * tst1);
    }
    d[l] = d[l] + f;
    e[l] = 0;
  }
}

function rotateRows(w: Float64Array, ri: number, ri1: number, n: number, c: number, s: number): void {
  for (let k = 0; k < n; k++) {
    const h = w[ri1 + k];
    const x = w[ri + k];
    w[ri1 + k] = s * x + c * h;
    w[ri + k] = c * x - s * h;
  }
}
