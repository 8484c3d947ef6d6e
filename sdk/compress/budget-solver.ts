import { packedByteLength } from '../format/bit-stream.js';
import type { QuantGroup } from '../format/manifest.js';
import { type BitWidth, groupsBytes, groupsFromBits } from './group-bytes.js';

/** What the solver knows of one matrix: its spectrum and how much each bit width loses. */
export interface SolverMatrix {
  name: string;
  shape: [number, number];
  /** Leading singular values, descending (as many as were computed). */
  sigma: Float64Array;
  /**
   * Relative squared error of one rank-1 term `σ·u·vᵀ` when u and v are quantized at `bits`
   * (measured on the matrix's own vectors by `measureQuantErrorFactors`). 0 bits = 1 (dropped).
   */
  errorFactor: Record<BitWidth, number>;
}

export interface SolverOptions {
  /** Total bytes allowed for all matrices together (`ratio · Σ 2·out·in`). */
  budgetBytes: number;
  vBlockSize: number;
  bits?: readonly BitWidth[];
}

export interface SolverResult {
  groups: Map<string, QuantGroup[]>;
  bytes: number;
  /** Predicted Σ squared error (model units: Σ σ² · factor), for reports. */
  predictedError: number;
}

/** Approximate bytes one more rank costs at `bits` (codes + its share of scales and zero points). */
function perRankBytes(shape: readonly [number, number], bits: number, vBlockSize: number): number {
  const [out, inn] = shape;
  const nb = Math.ceil(inn / vBlockSize);
  const vRow = nb * ((vBlockSize * bits) / 8) + nb * 2 + packedByteLength(nb, bits);
  const uCol = out * (bits / 8 + (2 + bits / 8) / vBlockSize);
  return vRow + uCol;
}

/**
 * Chooses every matrix's groups to minimise the summed reconstruction error under one byte budget
 * across ALL matrices (the paper fixes one split per matrix type; this spends bytes where the
 * spectrum is heaviest). It is the Lagrangian relaxation of the allocation problem: for a price λ
 * per byte, each singular direction independently takes the bit width minimising
 * `σ²·factor(bits) + λ·bytes(bits)`. Because that is a lower envelope of lines in σ², the chosen
 * width never increases down the spectrum, so the choice is a valid group split. λ is found by
 * bisection on the exact byte count (padding included).
 *
 * @example
 * ```ts
 * const { groups } = solveBitAllocation(matrices, { budgetBytes: total / 16, vBlockSize: 64 });
 * ```
 */
export function solveBitAllocation(matrices: readonly SolverMatrix[], options: SolverOptions): SolverResult {
  const widths = [...(options.bits ?? [8, 4, 3, 2])].sort((a, b) => b - a);
  const costs = matrices.map((m) => widths.map((b) => perRankBytes(m.shape, b, options.vBlockSize)));

  const allocate = (lambda: number) => {
    const groups = new Map<string, QuantGroup[]>();
    let bytes = 0;
    let error = 0;
    matrices.forEach((m, mi) => {
      const bits: number[] = new Array(m.sigma.length).fill(0);
      let prev = Number.POSITIVE_INFINITY;
      for (let i = 0; i < m.sigma.length; i++) {
        const s2 = m.sigma[i] * m.sigma[i];
        let best = 0;
        let bestCost = s2;
        widths.forEach((b, wi) => {
          const c = s2 * m.errorFactor[b] + lambda * costs[mi][wi];
          if (c < bestCost) {
            bestCost = c;
            best = b;
          }
        });
        best = Math.min(best, prev);
        bits[i] = best;
        prev = best;
        error += best === 0 ? s2 : s2 * m.errorFactor[best as BitWidth];
      }
      const g = groupsFromBits(bits, options.vBlockSize);
      groups.set(m.name, g);
      bytes += groupsBytes(m.shape, g);
    });
    return { groups, bytes, predictedError: error };
  };

  // Bytes fall as λ rises. Find the smallest λ whose allocation fits.
  let lo = 1e-30;
  let hi = 1;
  while (allocate(hi).bytes > options.budgetBytes && hi < 1e30) hi *= 16;
  const atLo = allocate(lo);
  if (atLo.bytes <= options.budgetBytes) return atLo;
  for (let iter = 0; iter < 80; iter++) {
    const mid = Math.sqrt(lo * hi);
    if (allocate(mid).bytes > options.budgetBytes) lo = mid;
    else hi = mid;
    if (hi / lo < 1 + 1e-9) break;
  }
  return allocate(hi);
}
