import { DeltaFormatError } from '../errors/errors.js';
import type { SafetensorsHeader, TensorInfo } from '../safetensors/header.js';
import { expectedDeltaTensors } from './layout.js';
import { DELTA_FORMAT_TAG, type DeltaManifest, parseDeltaManifest } from './manifest.js';

/** A delta file's header, checked against SPEC.md: every tensor accounted for, sizes honest. */
export interface DeltaHeader {
  manifest: DeltaManifest;
  tensors: Map<string, TensorInfo>;
  /** Byte offset of the data buffer in the file. */
  dataOffset: number;
}

/**
 * Validates a parsed safetensors header as a deltahub delta. Pure (no I/O, web-standard only):
 * the registry runs it on the first bytes of an upload, the SDK on a local file.
 *
 * @example
 * ```ts
 * const { manifest } = parseDeltaHeader(parseSafetensorsPrefix(prefix, blobSize));
 * ```
 */
export function parseDeltaHeader(header: SafetensorsHeader): DeltaHeader {
  const tag = header.metadata.format;
  if (tag !== DELTA_FORMAT_TAG) {
    throw new DeltaFormatError(
      tag === undefined
        ? 'not a deltahub delta: the safetensors metadata has no "format" entry'
        : `not a deltahub delta: metadata format is "${tag}", expected "${DELTA_FORMAT_TAG}"`,
    );
  }
  const text = header.metadata.manifest;
  if (text === undefined) throw new DeltaFormatError('delta file has no manifest in its metadata');
  const manifest = parseDeltaManifest(text);
  const tensors = new Map(header.tensors.map((t) => [t.name, t]));
  const expected = expectedDeltaTensors(manifest);
  const matrixBytes = new Map<string, number>();
  for (const e of expected) {
    const t = tensors.get(e.name);
    if (!t) throw new DeltaFormatError(`delta file lacks tensor ${e.name}`, { tensor: e.name });
    if (!e.dtypes.includes(t.dtype)) {
      throw new DeltaFormatError(`tensor ${e.name} is ${t.dtype}, expected ${e.dtypes.join(' or ')}`);
    }
    if (t.shape.length !== e.shape.length || t.shape.some((d, i) => d !== e.shape[i])) {
      throw new DeltaFormatError(`tensor ${e.name} has shape [${t.shape}], expected [${e.shape}]`);
    }
    if (e.matrix !== null) matrixBytes.set(e.matrix, (matrixBytes.get(e.matrix) ?? 0) + (t.end - t.begin));
  }
  if (expected.length !== tensors.size) {
    const known = new Set(expected.map((e) => e.name));
    const extra = header.tensors.find((t) => !known.has(t.name));
    throw new DeltaFormatError(`delta file holds tensor ${extra?.name} that the manifest does not describe`);
  }
  let compressed = 0;
  let fp16 = 0;
  for (const m of manifest.matrices) {
    const bytes = matrixBytes.get(m.name) ?? 0;
    if (m.stats.bytes !== bytes || m.stats.fp16Bytes !== 2 * m.shape[0] * m.shape[1]) {
      throw new DeltaFormatError(
        `matrix ${m.name}: manifest sizes disagree with its tensors (${bytes} bytes stored)`,
      );
    }
    compressed += bytes;
    fp16 += m.stats.fp16Bytes;
  }
  if (manifest.totals.compressedBytes !== compressed || manifest.totals.fp16DeltaBytes !== fp16) {
    throw new DeltaFormatError('manifest totals disagree with the matrices it lists');
  }
  return { manifest, tensors, dataOffset: header.dataOffset };
}
