/**
 * Exact reference SVD for small matrices: one-sided (Hestenes) Jacobi in Float64. Slow (O(n²m)
 * per sweep, ~6–10 sweeps) but simple and accurate to high relative precision, which is what a
 * yardstick for the randomized SVD needs. Not for production sizes.
 */
import { InvalidInputError } from '../errors/errors.js';

export interface DenseSvdResult {
  /** [m, k] row-major, k = min(m, n). */
  u: Float64Array;
  /** Descending. */
  s: Float64Array;
  /** [k, n] row-major. */
  vt: Float64Array;
  k: number;
}

/**
 * Full (thin) SVD of A [m, n] row-major: A = U·diag(s)·Vᵀ.
 *
 * @example
 * ```ts
 * const { s } = denseSvd(new Float64Array([3, 0, 0, 4]), 2, 2); // s = [4, 3]
 * ```
 */
export function denseSvd(a: ArrayLike<number>, m: number, n: number): DenseSvdResult {
  if (!Number.isInteger(m) || !Number.isInteger(n) || m < 1 || n < 1 || a.length !== m * n) {
    throw new InvalidInputError('denseSvd: a must be m×n', { m, n, length: a.length });
  }
  // Work on the columns of the tall orientation, stored as rows (contiguous): if m ≥ n the
  // columns of A (rows of Aᵀ), else the columns of Aᵀ (rows of A).
  const tall = m >= n;
  const p = tall ? m : n; // length of each working vector
  const k = tall ? n : m; // number of working vectors
  const x = new Float64Array(k * p);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      if (tall) x[j * p + i] = a[i * n + j];
      else x[i * p + j] = a[i * n + j];
    }
  }
  const v = new Float64Array(k * k); // rows = accumulated rotations
  for (let i = 0; i < k; i++) v[i * k + i] = 1;
  const tol = 1e-15;
  for (let sweep = 0; sweep < 60; sweep++) {
    let rotated = false;
    for (let i = 0; i < k - 1; i++) {
      const ri = i * p;
      for (let j = i + 1; j < k; j++) {
        const rj = j * p;
        let alpha = 0;
        let beta = 0;
        let gamma = 0;
        for (let t = 0; t < p; t++) {
          const xi = x[ri + t];
          const xj = x[rj + t];
          alpha += xi * xi;
          beta += xj * xj;
          gamma += xi * xj;
        }
        if (gamma === 0 || Math.abs(gamma) <= tol * Math.sqrt(alpha * beta)) continue;
        rotated = true;
        const zeta = (beta - alpha) / (2 * gamma);
        const tan = Math.sign(zeta || 1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
        const c = 1 / Math.sqrt(1 + tan * tan);
        const s = c * tan;
        for (let t = 0; t < p; t++) {
          const xi = x[ri + t];
          const xj = x[rj + t];
          x[ri + t] = c * xi - s * xj;
          x[rj + t] = s * xi + c * xj;
        }
        const vi = i * k;
        const vj = j * k;
        for (let t = 0; t < k; t++) {
          const a1 = v[vi + t];
          const a2 = v[vj + t];
          v[vi + t] = c * a1 - s * a2;
          v[vj + t] = s * a1 + c * a2;
        }
      }
    }
    if (!rotated) break;
  }
  const norms = new Float64Array(k);
  for (let i = 0; i < k; i++) {
    let s = 0;
    for (let t = 0; t < p; t++) s += x[i * p + t] ** 2;
    norms[i] = Math.sqrt(s);
  }
  const order = Array.from({ length: k }, (_, i) => i).sort((i, j) => norms[j] - norms[i]);
  const u = new Float64Array(m * k);
  const vt = new Float64Array(k * n);
  const s = new Float64Array(k);
  for (let r = 0; r < k; r++) {
    const i = order[r];
    const sigma = norms[i];
    s[r] = sigma;
    // Tall: x rows are σ·u, v rows are v. Wide: x rows are σ·v, v rows are u.
    for (let t = 0; t < p; t++) {
      const val = sigma > 0 ? x[i * p + t] / sigma : 0;
      if (tall) u[t * k + r] = val;
      else vt[r * n + t] = val;
    }
    for (let t = 0; t < k; t++) {
      if (tall) vt[r * n + t] = v[i * k + t];
      else u[t * k + r] = v[i * k + t];
    }
  }
  return { u, s, vt, k };
}
