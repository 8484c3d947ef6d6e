/**
 * Truncated SVD by randomized range finding (Halko, Martinsson & Tropp 2011, Alg. 4.4 with
 * re-orthonormalisation between power iterations), the workhorse of Delta-CoMe compression.
 *
 * Numeric path: every product with A and every tall orthonormalisation runs on the ORT GEMM
 * (fp32 for products with A, fp64 for Gram matrices); the only TypeScript O(l³) work is the l×l
 * symmetric eigenproblem that yields the SVD of the small l×n matrix B = QᵀA.
 */
import { InvalidInputError } from '../errors/errors.js';
import { gramColumns, gramRows, orthonormalizeColumns } from './cholesky-qr.js';
import type { Gemm } from './gemm.js';
import { gaussianMatrix } from './random.js';
import { symmetricEigen } from './symmetric-eigen.js';

export interface RandomizedSvdOptions {
  /** Extra sampled directions beyond `rank` (default 16). */
  oversample?: number;
  /** Subspace (power) iterations with A·Aᵀ (default 2); each sharpens a slowly decaying spectrum. */
  powerIterations?: number;
  /** Seed of the Gaussian test matrix (default 0); same seed, same result. */
  seed?: number;
}

export interface SvdResult {
  /** Left singular vectors, [m, k] row-major. */
  u: Float32Array;
  /** Singular values, descending. */
  s: Float64Array;
  /** Right singular vectors transposed, [k, n] row-major. */
  vt: Float32Array;
  k: number;
}

/** Records where the time goes (used by the benchmark); optional. */
export type PhaseTimer = (phase: string, seconds: number) => void;

/**
 * Rank-`rank` truncated SVD of A [m, n] (row-major fp32): A ≈ U·diag(s)·Vᵀ with k = min(rank, m, n).
 * When rank + oversample ≥ min(m, n) the sketch would be the whole space, so the exact SVD of
 * the small side is computed instead (Gram matrix in fp64 + symmetric eigen).
 *
 * Singular triplets whose σ is zero in fp32 (exactly rank-deficient A) come back with σ = 0 and a
 * zero row/column in place of an arbitrary orthonormal completion.
 *
 * @example
 * ```ts
 * const gemm = await Gemm.create();
 * const { u, s, vt, k } = await randomizedSvd(gemm, delta, 4096, 11008, 1024, { seed: 1 });
 * ```
 */
export async function randomizedSvd(
  gemm: Gemm,
  a: Float32Array,
  m: number,
  n: number,
  rank: number,
  options?: RandomizedSvdOptions & { timer?: PhaseTimer },
): Promise<SvdResult> {
  for (const [name, v] of [
    ['m', m],
    ['n', n],
    ['rank', rank],
  ] as const) {
    if (!Number.isInteger(v) || v < 1)
      throw new InvalidInputError(`randomizedSvd: ${name} must be a positive integer`);
  }
  if (a.length !== m * n) {
    throw new InvalidInputError('randomizedSvd: a.length must be m*n', { m, n, length: a.length });
  }
  const oversample = options?.oversample ?? 16;
  const q = options?.powerIterations ?? 2;
  if (!Number.isInteger(oversample) || oversample < 0 || !Number.isInteger(q) || q < 0) {
    throw new InvalidInputError(
      'randomizedSvd: oversample and powerIterations must be non-negative integers',
    );
  }
  const timer = options?.timer;
  let t0 = performance.now();
  const lap = (phase: string): void => {
    const t = performance.now();
    timer?.(phase, (t - t0) / 1000);
    t0 = t;
  };
  const k = Math.min(rank, m, n);
  const l = k + oversample;
  if (l >= Math.min(m, n)) return exactSvd(gemm, a, m, n, k, lap);

  // Range finder: Q ≈ orthonormal basis of range((A·Aᵀ)^q · A · Ω).
  let y: Float32Array = await gemm.matmul(a, [m, n], gaussianMatrix(n * l, options?.seed ?? 0), [n, l]);
  lap('sketch');
  // Intermediate bases only need to be well conditioned (one CholeskyQR pass); the final Q gets two.
  let qm = await orthonormalizeColumns(gemm, y, m, l, q === 0 ? 2 : 1);
  lap('orthonormalise');
  for (let it = 0; it < q; it++) {
    const z = await gemm.matmul(a, [m, n], qm, [m, l], { transA: true });
    lap('power');
    const qz = await orthonormalizeColumns(gemm, z, n, l, 1);
    lap('orthonormalise');
    y = await gemm.matmul(a, [m, n], qz, [n, l]);
    lap('power');
    qm = await orthonormalizeColumns(gemm, y, m, l, it === q - 1 ? 2 : 1);
    lap('orthonormalise');
  }
  const b = await gemm.matmul(qm, [m, l], a, [m, n], { transA: true }); // [l, n]
  lap('project');
  const small = await svdOfWide(gemm, b, l, n, k, lap);
  const u = await gemm.matmul(qm, [m, l], small.u, [l, k]);
  lap('lift');
  return { u, s: small.s, vt: small.vt, k };
}

/**
 * SVD of a wide X [rows, cols] (rows ≤ cols) from the eigen-decomposition of X·Xᵀ (fp64):
 * X·Xᵀ = W·Λ·Wᵀ → U = W, σ = √λ, Vᵀ = Σ⁻¹·Wᵀ·X. Squaring the matrix costs relative accuracy
 * only for σᵢ ≲ √ε₆₄·σ₁ ≈ 1e-8·σ₁, far below fp32 storage precision.
 */
async function svdOfWide(
  gemm: Gemm,
  x: Float32Array,
  rows: number,
  cols: number,
  k: number,
  lap: (phase: string) => void,
): Promise<SvdResult> {
  const g = await gramRows(gemm, x, rows, cols);
  lap('small gram');
  const { values, vectors } = symmetricEigen(g, rows);
  lap('small eigen');
  const s = new Float64Array(k);
  const u = new Float32Array(rows * k);
  const w = new Float32Array(k * rows); // Σ⁻¹·Wᵀ
  for (let j = 0; j < k; j++) s[j] = Math.sqrt(Math.max(values[j], 0));
  const tiny = s[0] * 1e-30;
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < k; j++) {
      const v = vectors[i * rows + j];
      u[i * k + j] = v;
      w[j * rows + i] = s[j] > tiny ? v / s[j] : 0;
    }
  }
  const vt = await gemm.matmul(w, [k, rows], x, [rows, cols]);
  lap('small vt');
  return { u, s, vt, k };
}

/** Exact SVD through the small side's Gram matrix; k ≤ min(m, n). */
async function exactSvd(
  gemm: Gemm,
  a: Float32Array,
  m: number,
  n: number,
  k: number,
  lap: (phase: string) => void,
): Promise<SvdResult> {
  if (m <= n) return svdOfWide(gemm, a, m, n, k, lap);
  // Tall: AᵀA = V·Λ·Vᵀ, U = A·V·Σ⁻¹.
  const g = await gramColumns(gemm, a, m, n);
  const { values, vectors } = symmetricEigen(g, n);
  lap('small eigen');
  const s = new Float64Array(k);
  for (let j = 0; j < k; j++) s[j] = Math.sqrt(Math.max(values[j], 0));
  const tiny = s[0] * 1e-30;
  const vt = new Float32Array(k * n);
  const w = new Float32Array(n * k); // V·Σ⁻¹
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < k; j++) {
      const v = vectors[i * n + j];
      vt[j * n + i] = v;
      w[i * k + j] = s[j] > tiny ? v / s[j] : 0;
    }
  }
  const u = await gemm.matmul(a, [m, n], w, [n, k]);
  lap('lift');
  return { u, s, vt, k };
}

/** Frobenius norm, accumulated in fp64. */
export function frobeniusNorm(a: Float32Array | Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * a[i];
  return Math.sqrt(s);
}

/**
 * ‖A − U·diag(s)·Vᵀ‖_F without materialising the m×n reconstruction (row blocks of ≤ 256).
 *
 * @example
 * ```ts
 * const err = await lowRankResidual(gemm, a, m, n, svd); // compare with frobeniusNorm(a)
 * ```
 */
export async function lowRankResidual(
  gemm: Gemm,
  a: Float32Array,
  m: number,
  n: number,
  svd: { u: Float32Array; s: ArrayLike<number>; vt: Float32Array; k: number },
): Promise<number> {
  const { u, s, vt, k } = svd;
  let sum = 0;
  const block = 256;
  for (let r0 = 0; r0 < m; r0 += block) {
    const r = Math.min(block, m - r0);
    const us = new Float32Array(r * k);
    for (let i = 0; i < r; i++) for (let j = 0; j < k; j++) us[i * k + j] = u[(r0 + i) * k + j] * s[j];
    const rec = await gemm.matmul(us, [r, k], vt, [k, n]);
    const base = r0 * n;
    for (let i = 0; i < rec.length; i++) {
      const d = a[base + i] - rec[i];
      sum += d * d;
    }
  }
  return Math.sqrt(sum);
}
