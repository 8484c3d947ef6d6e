import { type DeltaRows, rowChunk } from '../apply/delta-rows.js';
import type { Gemm } from '../linalg/gemm.js';
import { SeededRandom } from '../util/seeded-random.js';

/** Squared numerators and denominators, so totals can pool them across matrices (SPEC.md 4). */
export interface MatrixErrorParts {
  froNum: number;
  froDen: number;
  outNum: number;
  outDen: number;
}

export const OUTPUT_PROBE_ROWS = 64;

/**
 * ‖Δ̂ − Δ‖²_F and ‖X(Δ̂ − Δ)ᵀ‖²_F against ‖Δ‖²_F and ‖XΔᵀ‖²_F, with X a seeded Gaussian
 * `[64, in]`: the second measures what a layer's output actually loses on random inputs.
 * Δ̂ is walked in row chunks (exact fp64 sums, no full-size temporaries).
 */
export async function measureMatrixError(
  delta: Float32Array,
  rows: DeltaRows,
  shape: readonly [number, number],
  gemm: Gemm,
  seed: number,
): Promise<MatrixErrorParts> {
  const [out, inn] = shape;
  const x = new SeededRandom(seed).gaussianArray(OUTPUT_PROBE_ROWS * inn);
  const parts: MatrixErrorParts = { froNum: 0, froDen: 0, outNum: 0, outDen: 0 };
  const step = rowChunk(inn);
  for (let r0 = 0; r0 < out; r0 += step) {
    const r1 = Math.min(out, r0 + step);
    const exact = delta.subarray(r0 * inn, r1 * inn);
    const diff = await rows(r0, r1);
    for (let i = 0; i < diff.length; i++) {
      const d = diff[i] - exact[i];
      diff[i] = d;
      parts.froNum += d * d;
      parts.froDen += exact[i] * exact[i];
    }
    const yErr = await gemm.matmul(x, [OUTPUT_PROBE_ROWS, inn], diff, [r1 - r0, inn], { transB: true });
    const y = await gemm.matmul(x, [OUTPUT_PROBE_ROWS, inn], exact, [r1 - r0, inn], { transB: true });
    for (let i = 0; i < y.length; i++) {
      parts.outNum += yErr[i] * yErr[i];
      parts.outDen += y[i] * y[i];
    }
  }
  return parts;
}

export function ratioOrNull(num: number, den: number): number | null {
  return den > 0 ? Math.sqrt(num / den) : null;
}
