import { DeltaFormatError } from '../errors/errors.js';
import { float16BitsToFloat32, float32ToFloat16Bits } from '../safetensors/dtypes.js';
import { packCodes, packedByteLength, readCode } from './bit-stream.js';

/**
 * One `[N, K]` matrix block-quantized along K, in the exact tensor layout of SPEC.md 3.1
 * (MatMulNBits' `B`, `scales`, `zero_points`).
 */
export interface BlockQuantMatrix {
  n: number;
  k: number;
  bits: number;
  blockSize: number;
  /** `[N, nb, blockSize·bits/8]` */
  qweight: Uint8Array;
  /** `[N, nb]`, already rounded to `scaleDtype`. */
  scales: Float32Array;
  scaleDtype: 'F16' | 'F32';
  /** `[N, ceil(nb·bits/8)]` */
  zeros: Uint8Array;
}

export function blocksPerRow(k: number, blockSize: number): number {
  return Math.ceil(k / blockSize);
}

/** Byte sizes of the three tensors of a part: what α counts. */
export function blockQuantByteSizes(
  n: number,
  k: number,
  bits: number,
  blockSize: number,
  scaleBytes = 2,
): { qweight: number; scales: number; zeros: number; total: number } {
  const nb = blocksPerRow(k, blockSize);
  const qweight = n * nb * ((blockSize * bits) / 8);
  const scales = n * nb * scaleBytes;
  const zeros = n * packedByteLength(nb, bits);
  return { qweight, scales, zeros, total: qweight + scales + zeros };
}

/** Round half to even, as CUDA's rintf: keeps CPU and GPU writers on the same codes for exact ties. */
export function rint(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

const F16_MIN_NORMAL = 2 ** -14;
const F16_MAX = 65504;

/**
 * Round-to-nearest asymmetric block quantization (SPEC.md 3.1), data-free.
 * Scales are stored as F16 unless some block's scale is outside F16's normal range, in which case
 * the whole part uses F32 (precision before bytes: this only happens for degenerate inputs).
 *
 * @example
 * ```ts
 * const q = quantizeBlockMatrix(vt, rank, inFeatures, 2, 64);
 * const approx = dequantizeBlockMatrix(q); // same shape as vt
 * ```
 */
export function quantizeBlockMatrix(
  values: Float32Array,
  n: number,
  k: number,
  bits: number,
  blockSize: number,
): BlockQuantMatrix {
  if (values.length !== n * k) {
    throw new DeltaFormatError(`quantize: ${values.length} values for a [${n}, ${k}] matrix`);
  }
  const nb = blocksPerRow(k, blockSize);
  const blob = (blockSize * bits) / 8;
  const zpRow = packedByteLength(nb, bits);
  const maxCode = (1 << bits) - 1;
  const qweight = new Uint8Array(n * nb * blob);
  const rawScales = new Float64Array(n * nb);
  const zeroCodes = new Uint8Array(n * nb);
  let needF32 = false;
  for (let row = 0; row < n; row++) {
    for (let j = 0; j < nb; j++) {
      const start = row * k + j * blockSize;
      const end = row * k + Math.min(k, (j + 1) * blockSize);
      let lo = Number.POSITIVE_INFINITY;
      let hi = Number.NEGATIVE_INFINITY;
      for (let t = start; t < end; t++) {
        const v = values[t];
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      if (!Number.isFinite(lo) || !Number.isFinite(hi)) {
        throw new DeltaFormatError('quantize: values must be finite', { row, block: j });
      }
      let scale = hi > lo ? (hi - lo) / maxCode : Math.abs(lo);
      if (scale === 0) scale = 1;
      if (scale < F16_MIN_NORMAL || scale > F16_MAX) needF32 = true;
      rawScales[row * nb + j] = scale;
    }
  }
  const scaleDtype = needF32 ? 'F32' : 'F16';
  const scales = new Float32Array(n * nb);
  for (let i = 0; i < scales.length; i++) {
    scales[i] = needF32 ? Math.fround(rawScales[i]) : float16BitsToFloat32(float32ToFloat16Bits(rawScales[i]));
  }
  const blockCodes = new Uint8Array(blockSize);
  for (let row = 0; row < n; row++) {
    for (let j = 0; j < nb; j++) {
      const start = row * k + j * blockSize;
      const count = Math.min(k, (j + 1) * blockSize) - j * blockSize;
      const scale = scales[row * nb + j];
      let lo = Number.POSITIVE_INFINITY;
      for (let t = 0; t < count; t++) lo = Math.min(lo, values[start + t]);
      const zero = Math.min(maxCode, Math.max(0, rint(-lo / scale)));
      zeroCodes[row * nb + j] = zero;
      blockCodes.fill(0);
      for (let t = 0; t < count; t++) {
        const c = rint(values[start + t] / scale) + zero;
        blockCodes[t] = c < 0 ? 0 : c > maxCode ? maxCode : c;
      }
      packCodes(blockCodes, 0, blockSize, bits, qweight, (row * nb + j) * blob);
    }
  }
  const zeros = new Uint8Array(n * zpRow);
  for (let row = 0; row < n; row++) packCodes(zeroCodes, row * nb, nb, bits, zeros, row * zpRow);
  return { n, k, bits, blockSize, qweight, scales, scaleDtype, zeros };
}

/** Inverse of the layout: `(code − zero)·scale` for every valid element, `[N, K]` row-major. */
export function dequantizeBlockMatrix(q: BlockQuantMatrix): Float32Array {
  const { n, k, bits, blockSize } = q;
  const nb = blocksPerRow(k, blockSize);
  const blob = (blockSize * bits) / 8;
  const zpRow = packedByteLength(nb, bits);
  const out = new Float32Array(n * k);
  for (let row = 0; row < n; row++) {
    for (let j = 0; j < nb; j++) {
      const scale = q.scales[row * nb + j];
      const zero = readCode(q.zeros, row * zpRow, j, bits);
      const base = (row * nb + j) * blob;
      const count = Math.min(k, (j + 1) * blockSize) - j * blockSize;
      const dst = row * k + j * blockSize;
      for (let t = 0; t < count; t++) out[dst + t] = (readCode(q.qweight, base, t, bits) - zero) * scale;
    }
  }
  return out;
}
