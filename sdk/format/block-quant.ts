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

// Below 2^-16 an F16 scale (subnormal there, step 2^-24) keeps under 8 significant bits; above
// 65504 it overflows.
const F16_MIN_SCALE = 2 ** -16;
const F16_MAX = 65504;
const F16_MIN_SUBNORMAL = 2 ** -24;

/**
 * Round-to-nearest asymmetric block quantization (SPEC.md 3.1), data-free. The block's range is
 * widened to include 0, as GPTQ's and ONNX Runtime's quantizers do: otherwise a block whose values
 * share one sign (frequent in short u-part blocks) needs a zero point outside [0, 2^bits − 1].
 * Scales are stored as F16 unless the whole part is so small (largest scale < 2^-16) that F16
 * would keep under 8 significant bits, or a scale overflows F16; then the part uses F32. The
 * allocation counts F16 scales, so such a degenerate part can push α past the budget; the
 * manifest's α is always the bytes actually stored.
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
  const lows = new Float64Array(n * nb);
  let largest = 0;
  for (let row = 0; row < n; row++) {
    for (let j = 0; j < nb; j++) {
      const start = row * k + j * blockSize;
      const end = row * k + Math.min(k, (j + 1) * blockSize);
      let lo = 0;
      let hi = 0;
      for (let t = start; t < end; t++) {
        const v = values[t];
        if (v < lo) lo = v;
        else if (v > hi) hi = v;
        else if (Number.isNaN(v))
          throw new DeltaFormatError('quantize: values must be finite', { row, block: j });
      }
      if (!Number.isFinite(lo) || !Number.isFinite(hi)) {
        throw new DeltaFormatError('quantize: values must be finite', { row, block: j });
      }
      const scale = hi > lo ? (hi - lo) / maxCode : 1;
      rawScales[row * nb + j] = scale;
      lows[row * nb + j] = lo;
      if (scale > largest) largest = scale;
    }
  }
  const scaleDtype = largest > F16_MAX || largest < F16_MIN_SCALE ? 'F32' : 'F16';
  const scales = new Float32Array(n * nb);
  for (let i = 0; i < scales.length; i++) {
    if (scaleDtype === 'F32') scales[i] = Math.fround(rawScales[i]);
    // A scale that rounds to 0 in F16 belongs to a block of near-zeros: the smallest subnormal
    // still represents them within half a step.
    else scales[i] = float16BitsToFloat32(float32ToFloat16Bits(rawScales[i])) || F16_MIN_SUBNORMAL;
  }
  const zeroCodes = new Uint8Array(n * nb);
  const blockCodes = new Uint8Array(blockSize);
  for (let row = 0; row < n; row++) {
    for (let j = 0; j < nb; j++) {
      const start = row * k + j * blockSize;
      const count = Math.min(k, (j + 1) * blockSize) - j * blockSize;
      const scale = scales[row * nb + j];
      const zero = Math.min(maxCode, Math.max(0, rint(-lows[row * nb + j] / scale)));
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
