import type { Dtype } from '../safetensors/dtypes.js';
import { packedByteLength } from './bit-stream.js';
import { blocksPerRow } from './block-quant.js';
import type { DeltaManifest, MatrixEntry, QuantGroup } from './manifest.js';

/** The two block-quantized halves of a Delta-CoMe group (SPEC.md 3.1). */
export type GroupPart = 'v' | 'u';
export type QuantTensorRole = 'qweight' | 'scales' | 'zeros';

/** A tensor the manifest says the file must hold; `dtypes` lists the allowed dtypes. */
export interface ExpectedTensor {
  name: string;
  dtypes: readonly Dtype[];
  shape: number[];
  /** The matrix that owns it (counted in α), or null for raw tensors. */
  matrix: string | null;
}

export function quantTensorName(
  matrix: string,
  group: number,
  part: GroupPart,
  role: QuantTensorRole,
): string {
  return `delta/${matrix}/g${group}/${part}.${role}`;
}
export function lowRankTensorName(matrix: string, factor: 'u' | 'v'): string {
  return `delta/${matrix}/lr.${factor}`;
}
export function signTensorName(matrix: string): string {
  return `delta/${matrix}/sign`;
}
export function rawTensorName(name: string): string {
  return `raw/${name}`;
}

/** `[N, K]` of a group's part: v is `Vᵀ[r0:r1]` `[r, in]`, u is `(U·S)[:, r0:r1]` `[out, r]`. */
export function groupPartShape(shape: readonly [number, number], group: QuantGroup, part: GroupPart) {
  const r = group.ranks[1] - group.ranks[0];
  const [out, inn] = shape;
  return part === 'v'
    ? { n: r, k: inn, blockSize: group.vBlockSize }
    : { n: out, k: r, blockSize: group.uBlockSize };
}

/** Every tensor one matrix entry owns, with the dtype and shape SPEC.md derives for it. */
export function expectedMatrixTensors(entry: MatrixEntry): ExpectedTensor[] {
  const [out, inn] = entry.shape;
  const owned = (name: string, dtypes: readonly Dtype[], shape: number[]): ExpectedTensor => ({
    name,
    dtypes,
    shape,
    matrix: entry.name,
  });
  switch (entry.encoding) {
    case 'lowrank-quant':
      return entry.groups.flatMap((g, i) =>
        (['v', 'u'] as const).flatMap((part) => {
          const { n, k, blockSize } = groupPartShape(entry.shape, g, part);
          const nb = blocksPerRow(k, blockSize);
          return [
            owned(quantTensorName(entry.name, i, part, 'qweight'), ['U8'], [n, nb, (blockSize * g.bits) / 8]),
            owned(quantTensorName(entry.name, i, part, 'scales'), ['F16', 'F32'], [n, nb]),
            owned(quantTensorName(entry.name, i, part, 'zeros'), ['U8'], [n, packedByteLength(nb, g.bits)]),
          ];
        }),
      );
    case 'lowrank-f16':
      return [
        owned(lowRankTensorName(entry.name, 'u'), ['F16'], [out, entry.rank]),
        owned(lowRankTensorName(entry.name, 'v'), ['F16'], [entry.rank, inn]),
      ];
    case 'sign':
      return [owned(signTensorName(entry.name), ['U8'], [out, Math.ceil(inn / 8)])];
  }
}

/** Every tensor a delta file must hold, in the order deltahub writes them. */
export function expectedDeltaTensors(manifest: DeltaManifest): ExpectedTensor[] {
  return [
    ...manifest.matrices.flatMap(expectedMatrixTensors),
    ...manifest.raw.map((r) => ({
      name: rawTensorName(r.name),
      dtypes: [r.dtype],
      shape: r.shape,
      matrix: null,
    })),
  ];
}
