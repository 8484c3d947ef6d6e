import { copyFile, mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { BaseMismatchError, InvalidInputError } from '../errors/errors.js';
import { DeltaFile } from '../format/delta-file.js';
import { rawTensorName } from '../format/layout.js';
import type { DeltaManifest, MatrixEntry } from '../format/manifest.js';
import { Gemm } from '../linalg/gemm.js';
import { Checkpoint, writeShardedCheckpoint } from '../safetensors/checkpoint.js';
import { hashCheckpoint } from '../safetensors/digest.js';
import { type Dtype, encodeFromFloat32 } from '../safetensors/dtypes.js';
import { rowChunk } from './delta-rows.js';
import { matrixDeltaRows } from './reconstruct-matrix.js';

export type ApplyPhase = 'hash-base' | 'merge';

export interface ApplyOptions {
  baseDir: string;
  deltaPath: string;
  outDir: string;
  /** Largest shard of the merged checkpoint. Default 5 GB (as Hugging Face writes). */
  maxShardBytes?: number;
  threads?: number;
  onProgress?: (p: { phase: ApplyPhase; done: number; total: number; item?: string }) => void;
}

export interface ApplyResult {
  outDir: string;
  tensors: number;
}

/** Names the first base tensors whose digests differ from what the delta was made against. */
function describeMismatch(manifest: DeltaManifest, actual: Record<string, { sha256: string }>): string {
  const expected = manifest.base.tensors;
  const diffs: string[] = [];
  for (const name of Object.keys(expected).sort()) {
    if (!actual[name]) diffs.push(`${name} (missing)`);
    else if (actual[name].sha256 !== expected[name].sha256) diffs.push(`${name} (different weights)`);
    if (diffs.length === 3) break;
  }
  if (diffs.length < 3) {
    for (const name of Object.keys(actual).sort()) {
      if (!expected[name]) diffs.push(`${name} (not in the delta's base)`);
      if (diffs.length === 3) break;
    }
  }
  return diffs.join(', ');
}

/** Files of a HF checkpoint dir that travel with the weights (config, tokenizer...). */
async function copySideFiles(baseDir: string, outDir: string): Promise<void> {
  for (const name of await readdir(baseDir)) {
    if (name.endsWith('.safetensors') || name === 'model.safetensors.index.json') continue;
    const from = join(baseDir, name);
    if ((await stat(from)).isFile()) await copyFile(from, join(outDir, name));
  }
}

/**
 * Applies a delta to its base: writes the fine-tuned checkpoint (safetensors, sharded when large,
 * with the base's config and tokenizer files and the fine-tune's own where they differ).
 * Refuses a base whose digest differs from the delta's. Streams tensor by tensor, and the output
 * directory appears only when complete.
 *
 * @example
 * ```ts
 * await applyDelta({ baseDir: 'models/base', deltaPath: 'math.delta.safetensors', outDir: 'models/math' });
 * ```
 */
export async function applyDelta(options: ApplyOptions): Promise<ApplyResult> {
  const progress = options.onProgress ?? (() => {});
  const existing = await readdir(options.outDir).catch(() => null);
  if (existing !== null && existing.length > 0) {
    throw new InvalidInputError(`output directory ${options.outDir} exists and is not empty`);
  }
  const delta = await DeltaFile.open(options.deltaPath);
  const base = await Checkpoint.open(options.baseDir).catch(async (e) => {
    await delta.close();
    throw e;
  });
  const gemm = await Gemm.create(options.threads === undefined ? {} : { threads: options.threads });
  const staging = join(
    dirname(options.outDir),
    `.${basename(options.outDir)}.partial-${process.pid}-${Date.now()}`,
  );
  try {
    const manifest = delta.manifest;
    const hash = await hashCheckpoint(base, (d, t) => progress({ phase: 'hash-base', done: d, total: t }));
    if (hash.digest !== manifest.base.digest) {
      throw new BaseMismatchError(
        `this delta was made for base ${manifest.base.digest}, but ${options.baseDir} is ${hash.digest}: ${describeMismatch(manifest, hash.tensors)}`,
        { expected: manifest.base.digest, actual: hash.digest },
      );
    }
    const matrices = new Map<string, MatrixEntry>(manifest.matrices.map((m) => [m.name, m]));
    const raw = new Map(manifest.raw.map((r) => [r.name, r]));
    const removed = new Set(manifest.removed);
    const names = [...new Set([...base.names().filter((n) => !removed.has(n)), ...raw.keys()])].sort();
    let done = 0;
    const entries = names.map((name) => {
      const r = raw.get(name);
      const m = matrices.get(name);
      const info = r ?? base.info(name);
      const dtype: Dtype = r ? r.dtype : m ? manifest.targetDtype : base.info(name).dtype;
      const data = async (): Promise<Uint8Array> => {
        progress({ phase: 'merge', done: done++, total: names.length, item: name });
        if (r) return delta.readTensor(rawTensorName(name));
        if (!m) return base.readBytes(name);
        const w = await base.readFloat32(name);
        const [out, inn] = m.shape;
        const rows = await matrixDeltaRows(delta, m, gemm);
        const step = rowChunk(inn);
        for (let r0 = 0; r0 < out; r0 += step) {
          const r1 = Math.min(out, r0 + step);
          const d = await rows(r0, r1);
          const offset = r0 * inn;
          for (let i = 0; i < d.length; i++) w[offset + i] += d[i];
        }
        return encodeFromFloat32(w, manifest.targetDtype);
      };
      return { name, dtype, shape: [...info.shape], data };
    });
    await mkdir(staging, { recursive: true });
    await writeShardedCheckpoint(staging, entries, { maxShardBytes: options.maxShardBytes ?? 5_000_000_000 });
    await copySideFiles(options.baseDir, staging);
    for (const [file, text] of Object.entries(manifest.finetuned.files ?? {})) {
      await writeFile(join(staging, file), text);
    }
    progress({ phase: 'merge', done: names.length, total: names.length });
    if (existing !== null) await rm(options.outDir, { recursive: true, force: true });
    await rename(staging, options.outDir);
    return { outDir: options.outDir, tensors: names.length };
  } catch (e) {
    await rm(staging, { recursive: true, force: true });
    throw e;
  } finally {
    await gemm.close();
    await base.close();
    await delta.close();
  }
}
