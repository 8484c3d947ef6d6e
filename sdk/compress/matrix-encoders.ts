import { type DeltaRows, lowRankRows, signRows, stackGroupFactors } from '../apply/delta-rows.js';
import { type BlockQuantMatrix, dequantizeBlockMatrix, quantizeBlockMatrix } from '../format/block-quant.js';
import { lowRankTensorName, quantTensorName, signTensorName } from '../format/layout.js';
import type { MatrixEntry, QuantGroup } from '../format/manifest.js';
import type { Gemm } from '../linalg/gemm.js';
import { type Dtype, float16BitsToFloat32, float32ToFloat16Bits } from '../safetensors/dtypes.js';

/** A tensor ready for the delta file. */
export interface EncodedTensor {
  name: string;
  dtype: Dtype;
  shape: number[];
  data: Uint8Array;
}

/** Truncated SVD factors of one delta: `Δ ≈ u·diag(s)·vt`. */
export interface SvdFactors {
  /** `[m, k]` */
  u: Float32Array;
  s: Float64Array;
  /** `[k, n]` */
  vt: Float32Array;
  k: number;
}

/** A matrix entry before its measured stats and spectrum are known (Omit distributed over the union). */
export type EncodedEntry = MatrixEntry extends infer E
  ? E extends MatrixEntry
    ? Omit<E, 'stats' | 'spectrum'>
    : never
  : never;

export interface EncodedMatrix {
  entry: EncodedEntry;
  tensors: EncodedTensor[];
  /** Δ̂ exactly as a reader will reconstruct it, in row chunks. */
  rows: DeltaRows;
}

function bytesOf(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

function f16Bytes(values: Float32Array): { bytes: Uint8Array; rounded: Float32Array } {
  const bits = new Uint16Array(values.length);
  const rounded = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    bits[i] = float32ToFloat16Bits(values[i]);
    rounded[i] = float16BitsToFloat32(bits[i]);
  }
  return { bytes: bytesOf(bits), rounded };
}

function scaleTensorBytes(q: BlockQuantMatrix): Uint8Array {
  return q.scaleDtype === 'F32' ? bytesOf(Float32Array.from(q.scales)) : f16Bytes(q.scales).bytes;
}

function quantTensors(matrix: string, group: number, part: 'v' | 'u', q: BlockQuantMatrix): EncodedTensor[] {
  const nb = q.scales.length / q.n;
  return [
    {
      name: quantTensorName(matrix, group, part, 'qweight'),
      dtype: 'U8',
      shape: [q.n, nb, (q.blockSize * q.bits) / 8],
      data: q.qweight,
    },
    {
      name: quantTensorName(matrix, group, part, 'scales'),
      dtype: q.scaleDtype,
      shape: [q.n, nb],
      data: scaleTensorBytes(q),
    },
    {
      name: quantTensorName(matrix, group, part, 'zeros'),
      dtype: 'U8',
      shape: [q.n, q.zeros.length / q.n],
      data: q.zeros,
    },
  ];
}

/** Columns `[r0, r1)` of `u·diag(s)` as a `[m, r1−r0]` matrix. */
function scaledColumns(f: SvdFactors, m: number, r0: number, r1: number): Float32Array {
  const r = r1 - r0;
  const out = new Float32Array(m * r);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < r; j++) out[i * r + j] = f.u[i * f.k + r0 + j] * f.s[r0 + j];
  }
  return out;
}

/**
 * Delta-CoMe: each group's Vᵀ rows and U·S columns block-quantized at the group's width.
 * The reconstruction is computed from the dequantized codes, i.e. exactly what a reader gets.
 */
export function encodeDeltaCoMe(
  name: string,
  shape: [number, number],
  factors: SvdFactors,
  groups: QuantGroup[],
  gemm: Gemm,
): EncodedMatrix {
  const [out, inn] = shape;
  const total = groups.length > 0 ? groups[groups.length - 1].ranks[1] : 0;
  if (total > factors.k) throw new Error(`groups need ${total} singular vectors, only ${factors.k} computed`);
  const tensors: EncodedTensor[] = [];
  const parts = groups.map((g, gi) => {
    const [r0, r1] = g.ranks;
    const r = r1 - r0;
    const qv = quantizeBlockMatrix(factors.vt.subarray(r0 * inn, r1 * inn), r, inn, g.bits, g.vBlockSize);
    const qu = quantizeBlockMatrix(scaledColumns(factors, out, r0, r1), out, r, g.bits, g.uBlockSize);
    tensors.push(...quantTensors(name, gi, 'v', qv), ...quantTensors(name, gi, 'u', qu));
    return { v: dequantizeBlockMatrix(qv), u: dequantizeBlockMatrix(qu) };
  });
  const stacked = stackGroupFactors(shape, groups, parts);
  return {
    entry: { name, shape, encoding: 'lowrank-quant', groups },
    tensors,
    rows: lowRankRows(stacked.u, stacked.v, stacked.rank, inn, gemm),
  };
}

/** Low-Rank baseline: top-`rank` factors stored in float16. */
export function encodeLowRank(
  name: string,
  shape: [number, number],
  factors: SvdFactors,
  rank: number,
  gemm: Gemm,
): EncodedMatrix {
  const [out, inn] = shape;
  const k = Math.min(rank, factors.k);
  const u = f16Bytes(scaledColumns(factors, out, 0, k));
  const v = f16Bytes(factors.vt.subarray(0, k * inn));
  return {
    entry: { name, shape, encoding: 'lowrank-f16', rank: k },
    tensors: [
      { name: lowRankTensorName(name, 'u'), dtype: 'F16', shape: [out, k], data: u.bytes },
      { name: lowRankTensorName(name, 'v'), dtype: 'F16', shape: [k, inn], data: v.bytes },
    ],
    rows: lowRankRows(u.rounded, v.rounded, k, inn, gemm),
  };
}

/** BitDelta baseline: one sign bit per weight and the L2-optimal scale mean(|Δ|). */
export function encodeBitDelta(name: string, shape: [number, number], delta: Float32Array): EncodedMatrix {
  const [out, inn] = shape;
  const rowBytes = Math.ceil(inn / 8);
  const signs = new Uint8Array(out * rowBytes);
  let absSum = 0;
  for (let o = 0; o < out; o++) {
    for (let c = 0; c < inn; c++) {
      const x = delta[o * inn + c];
      absSum += Math.abs(x);
      if (x > 0) signs[o * rowBytes + (c >>> 3)] |= 1 << (c & 7);
    }
  }
  const scale = absSum / delta.length;
  return {
    entry: { name, shape, encoding: 'sign', scale },
    tensors: [{ name: signTensorName(name), dtype: 'U8', shape: [out, rowBytes], data: signs }],
    rows: signRows(signs, scale, inn),
  };
}
