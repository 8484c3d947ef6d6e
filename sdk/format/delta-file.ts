import { DeltaFormatError } from '../errors/errors.js';
import { SafetensorsFile } from '../safetensors/file-reader.js';
import type { BlockQuantMatrix } from './block-quant.js';
import { blockQuantFromTensors } from './block-quant-tensors.js';
import { type DeltaHeader, parseDeltaHeader } from './delta-header.js';
import { type GroupPart, groupPartShape, quantTensorName } from './layout.js';
import type { DeltaManifest, QuantMatrixEntry } from './manifest.js';

/**
 * A delta file on disk, validated on open (SPEC.md): reads tensors lazily, one at a time.
 *
 * @example
 * ```ts
 * const delta = await DeltaFile.open('model.delta.safetensors');
 * console.log(delta.manifest.method, delta.manifest.totals.alpha);
 * await delta.close();
 * ```
 */
export class DeltaFile {
  private constructor(
    readonly path: string,
    private readonly file: SafetensorsFile,
    readonly header: DeltaHeader,
  ) {}

  static async open(path: string): Promise<DeltaFile> {
    const file = await SafetensorsFile.open(path);
    try {
      return new DeltaFile(path, file, parseDeltaHeader(file.header));
    } catch (e) {
      await file.close();
      throw e;
    }
  }

  get manifest(): DeltaManifest {
    return this.header.manifest;
  }

  /** File size in bytes. */
  get size(): number {
    return this.file.size;
  }

  dtypeOf(name: string): string {
    const t = this.header.tensors.get(name);
    if (!t) throw new DeltaFormatError(`delta file has no tensor ${name}`);
    return t.dtype;
  }

  readTensor(name: string): Promise<Uint8Array> {
    return this.file.readBytes(name);
  }

  /** One group part's codes, scales and zeros as a {@link BlockQuantMatrix}. */
  async readGroupPart(entry: QuantMatrixEntry, group: number, part: GroupPart): Promise<BlockQuantMatrix> {
    const g = entry.groups[group];
    const shape = { ...groupPartShape(entry.shape, g, part), bits: g.bits };
    const scalesName = quantTensorName(entry.name, group, part, 'scales');
    return blockQuantFromTensors(
      shape,
      await this.readTensor(quantTensorName(entry.name, group, part, 'qweight')),
      await this.readTensor(scalesName),
      this.dtypeOf(scalesName),
      await this.readTensor(quantTensorName(entry.name, group, part, 'zeros')),
    );
  }

  close(): Promise<void> {
    return this.file.close();
  }
}
