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
 * `approx` is overwritten with Δ̂ − Δ: a third full-size matrix would break the memory budget.
 */
export async function measureMatrixError(
  delta: Float32Array,
  approx: Float32Array,
  shape: readonly [number, number],
  gemm: Gemm,
  seed: number,
): Promise<MatrixErrorParts> {
  const [out, inn] = shape;
  let froNum = 0;
  let froDen = 0;
  const diff = approx;
  for (let i = 0; i < delta.length; i++) {
    const d = approx[i] - delta[i];
    diff[i] = d;
    froNum += d * d;
    froDen += delta[i] * delta[i];
  }
  const x = new SeededRandom(seed).gaussianArray(OUTPUT_PROBE_ROWS * inn);
  const yErr = await gemm.matmul(x, [OUTPUT_PROBE_ROWS, inn], diff, [out, inn], { transB: true });
  const y = await gemm.matmul(x, [OUTPUT_PROBE_ROWS, inn], delta, [out, inn], { transB: true });
  let outNum = 0;
  let outDen = 0;
  for (let i = 0; i < y.length; i++) {
    outNum += yErr[i] * yErr[i];
    outDen += y[i] * y[i];
  }
  return { froNum, froDen, outNum, outDen };
}

export function ratioOrNull(num: number, den: number): number | null {
  return den > 0 ? Math.sqrt(num / den) : null;
}
