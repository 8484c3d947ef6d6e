import { DeltaFormatError } from '../errors/errors.js';
import { float16BitsToFloat32 } from '../safetensors/dtypes.js';
import type { BlockQuantMatrix } from './block-quant.js';

/**
 * Rebuilds a {@link BlockQuantMatrix} from the three stored tensors of one group part. Sizes are
 * checked here too: callers may hand in bytes from anywhere.
 */
export function blockQuantFromTensors(
  shape: { n: number; k: number; bits: number; blockSize: number },
  qweight: Uint8Array,
  scales: Uint8Array,
  scaleDtype: string,
  zeros: Uint8Array,
): BlockQuantMatrix {
  const { n, k, bits, blockSize } = shape;
  const nb = Math.ceil(k / blockSize);
  const scaleBytes = scaleDtype === 'F32' ? 4 : scaleDtype === 'F16' ? 2 : 0;
  if (scaleBytes === 0) throw new DeltaFormatError(`scales must be F16 or F32, got ${scaleDtype}`);
  if (
    qweight.length !== n * nb * ((blockSize * bits) / 8) ||
    scales.length !== n * nb * scaleBytes ||
    zeros.length !== n * Math.ceil((nb * bits) / 8)
  ) {
    throw new DeltaFormatError('quantized tensor sizes do not match their group shape', {
      n,
      k,
      bits,
      blockSize,
    });
  }
  const view = new DataView(scales.buffer, scales.byteOffset, scales.byteLength);
  const f = new Float32Array(n * nb);
  for (let i = 0; i < f.length; i++) {
    f[i] =
      scaleBytes === 4 ? view.getFloat32(i * 4, true) : float16BitsToFloat32(view.getUint16(i * 2, true));
  }
  return { n, k, bits, blockSize, qweight, scales: f, scaleDtype: scaleDtype as 'F16' | 'F32', zeros };
}
