import { dequantizeBlockMatrix, quantizeBlockMatrix } from '../format/block-quant.js';
import type { BitWidth } from './group-bytes.js';

const WIDTHS: readonly BitWidth[] = [8, 4, 3, 2];

function relativeSquaredError(
  x: Float32Array,
  n: number,
  k: number,
  bits: number,
  blockSize: number,
): number {
  const approx = dequantizeBlockMatrix(quantizeBlockMatrix(x, n, k, bits, blockSize));
  let num = 0;
  let den = 0;
  for (let i = 0; i < x.length; i++) {
    const d = approx[i] - x[i];
    num += d * d;
    den += x[i] * x[i];
  }
  return den > 0 ? num / den : 0;
}

/**
 * Measures, on the matrix's own singular vectors, the relative squared error a rank-1 term
 * `σ·u·vᵀ` suffers when both factors are quantized at each width: ε_v (rows of Vᵀ, blocks along
 * the input) + ε_u (U·S, blocks along the rank). Measuring beats a textbook uniform-noise formula
 * because singular vectors of real deltas are far from Gaussian (outlier coordinates widen blocks).
 *
 * @param vt `[k, n]` rows of Vᵀ; @param u `[m, k]`; @param s the k singular values
 */
export function measureQuantErrorFactors(
  vt: Float32Array,
  k: number,
  n: number,
  u: Float32Array,
  s: Float64Array,
  m: number,
  vBlockSize: number,
): Record<BitWidth, number> {
  const rows = Math.min(k, 64);
  const vSample = vt.subarray(0, rows * n);
  // The u part is quantized along the rank axis, so sample a leading slab of columns.
  const cols = Math.min(k, Math.max(vBlockSize, 64));
  const mRows = Math.min(m, 512);
  const uSample = new Float32Array(mRows * cols);
  for (let i = 0; i < mRows; i++) {
    for (let j = 0; j < cols; j++) uSample[i * cols + j] = u[i * k + j] * s[j];
  }
  const out = {} as Record<BitWidth, number>;
  for (const b of WIDTHS) {
    out[b] =
      relativeSquaredError(vSample, rows, n, b, vBlockSize) +
      relativeSquaredError(uSample, mRows, cols, b, Math.min(vBlockSize, 64));
  }
  return out;
}
