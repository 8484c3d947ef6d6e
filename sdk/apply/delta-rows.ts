import type { Gemm } from '../linalg/gemm.js';

/**
 * Rows `[r0, r1)` of a reconstructed Δ̂ `[out, in]`, row-major. Consumers walk a matrix in chunks
 * of {@link rowChunk} rows, so Δ̂ never exists whole: a full fp32 copy (plus ONNX Runtime's output
 * buffer while it is copied out) would triple the memory of compressing or merging a matrix.
 */
export type DeltaRows = (r0: number, r1: number) => Promise<Float32Array>;

/** Rows per chunk: about 1M elements (4 MB fp32) at a time. */
export function rowChunk(inFeatures: number): number {
  return Math.max(1, Math.floor((1 << 20) / Math.max(1, inFeatures)));
}

/** Δ̂ = u·v with u `[out, r]`, v `[r, in]` (dequantized Delta-CoMe groups or fp16 Low-Rank factors). */
export function lowRankRows(
  u: Float32Array,
  v: Float32Array,
  r: number,
  inFeatures: number,
  gemm: Gemm,
): DeltaRows {
  return async (r0, r1) =>
    r === 0
      ? new Float32Array((r1 - r0) * inFeatures)
      : gemm.matmul(u.subarray(r0 * r, r1 * r), [r1 - r0, r], v, [r, inFeatures]);
}

/** Δ̂ = ±scale from packed sign bits `[out, ceil(in/8)]` (BitDelta; SPEC.md 3.3). */
export function signRows(signs: Uint8Array, scale: number, inFeatures: number): DeltaRows {
  const rowBytes = Math.ceil(inFeatures / 8);
  return async (r0, r1) => {
    const out = new Float32Array((r1 - r0) * inFeatures);
    for (let o = r0; o < r1; o++) {
      const base = (o - r0) * inFeatures;
      for (let c = 0; c < inFeatures; c++) {
        out[base + c] = (signs[o * rowBytes + (c >>> 3)] >>> (c & 7)) & 1 ? scale : -scale;
      }
    }
    return out;
  };
}

/**
 * Stacks dequantized groups into one `u [out, R]`, `v [R, in]` pair (R = ranks kept), so the
 * whole delta is one low-rank product however many bit widths it mixes.
 */
export function stackGroupFactors(
  shape: readonly [number, number],
  groups: readonly { ranks: readonly [number, number] }[],
  parts: readonly { u: Float32Array; v: Float32Array }[],
): { u: Float32Array; v: Float32Array; rank: number } {
  const [out, inn] = shape;
  const rank = groups.length > 0 ? groups[groups.length - 1].ranks[1] : 0;
  const u = new Float32Array(out * rank);
  const v = new Float32Array(rank * inn);
  groups.forEach((g, gi) => {
    const [r0, r1] = g.ranks;
    const r = r1 - r0;
    v.set(parts[gi].v, r0 * inn);
    for (let i = 0; i < out; i++) u.set(parts[gi].u.subarray(i * r, (i + 1) * r), i * rank + r0);
  });
  return { u, v, rank };
}
