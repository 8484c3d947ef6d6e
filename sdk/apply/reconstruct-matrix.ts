import { dequantizeBlockMatrix } from '../format/block-quant.js';
import type { DeltaFile } from '../format/delta-file.js';
import { lowRankTensorName, signTensorName } from '../format/layout.js';
import type { MatrixEntry } from '../format/manifest.js';
import type { Gemm } from '../linalg/gemm.js';
import { decodeToFloat32 } from '../safetensors/dtypes.js';
import { type DeltaRows, lowRankRows, signRows, stackGroupFactors } from './delta-rows.js';

/**
 * Δ̂ of one matrix of a delta file, exactly as SPEC.md 3 defines it, served in row chunks. Loads
 * only the matrix's factors (about 1/16 of Δ̂'s fp16 size at α = 1/16).
 */
export async function matrixDeltaRows(delta: DeltaFile, entry: MatrixEntry, gemm: Gemm): Promise<DeltaRows> {
  const inn = entry.shape[1];
  switch (entry.encoding) {
    case 'lowrank-quant': {
      const parts = [];
      for (let gi = 0; gi < entry.groups.length; gi++) {
        parts.push({
          v: dequantizeBlockMatrix(await delta.readGroupPart(entry, gi, 'v')),
          u: dequantizeBlockMatrix(await delta.readGroupPart(entry, gi, 'u')),
        });
      }
      const { u, v, rank } = stackGroupFactors(entry.shape, entry.groups, parts);
      return lowRankRows(u, v, rank, inn, gemm);
    }
    case 'lowrank-f16': {
      const u = decodeToFloat32(await delta.readTensor(lowRankTensorName(entry.name, 'u')), 'F16');
      const v = decodeToFloat32(await delta.readTensor(lowRankTensorName(entry.name, 'v')), 'F16');
      return lowRankRows(u, v, entry.rank, inn, gemm);
    }
    case 'sign':
      return signRows(await delta.readTensor(signTensorName(entry.name)), entry.scale, inn);
  }
}
