import { dequantizeBlockMatrix } from '../format/block-quant.js';
import type { DeltaFile } from '../format/delta-file.js';
import { lowRankTensorName, signTensorName } from '../format/layout.js';
import type { MatrixEntry } from '../format/manifest.js';
import type { Gemm } from '../linalg/gemm.js';
import { decodeToFloat32 } from '../safetensors/dtypes.js';

/**
 * Δ̂ `[out, in]` for one matrix of a delta file, exactly as SPEC.md 3 defines it. Peak memory is
 * Δ̂ plus the matrix's factors (about 1/16 of Δ̂'s fp16 size at α = 1/16).
 */
export async function reconstructMatrixDelta(
  delta: DeltaFile,
  entry: MatrixEntry,
  gemm: Gemm,
): Promise<Float32Array> {
  const [out, inn] = entry.shape;
  switch (entry.encoding) {
    case 'lowrank-quant': {
      const total = entry.groups.length > 0 ? entry.groups[entry.groups.length - 1].ranks[1] : 0;
      if (total === 0) return new Float32Array(out * inn);
      const uHat = new Float32Array(out * total);
      const vHat = new Float32Array(total * inn);
      for (let gi = 0; gi < entry.groups.length; gi++) {
        const [r0, r1] = entry.groups[gi].ranks;
        const r = r1 - r0;
        vHat.set(dequantizeBlockMatrix(await delta.readGroupPart(entry, gi, 'v')), r0 * inn);
        const du = dequantizeBlockMatrix(await delta.readGroupPart(entry, gi, 'u'));
        for (let i = 0; i < out; i++) uHat.set(du.subarray(i * r, (i + 1) * r), i * total + r0);
      }
      return gemm.matmul(uHat, [out, total], vHat, [total, inn]);
    }
    case 'lowrank-f16': {
      if (entry.rank === 0) return new Float32Array(out * inn);
      const u = decodeToFloat32(await delta.readTensor(lowRankTensorName(entry.name, 'u')), 'F16');
      const v = decodeToFloat32(await delta.readTensor(lowRankTensorName(entry.name, 'v')), 'F16');
      return gemm.matmul(u, [out, entry.rank], v, [entry.rank, inn]);
    }
    case 'sign': {
      const signs = await delta.readTensor(signTensorName(entry.name));
      const rowBytes = Math.ceil(inn / 8);
      const result = new Float32Array(out * inn);
      for (let o = 0; o < out; o++) {
        for (let c = 0; c < inn; c++) {
          result[o * inn + c] =
            (signs[o * rowBytes + (c >>> 3)] >>> (c & 7)) & 1 ? entry.scale : -entry.scale;
        }
      }
      return result;
    }
  }
}
