/**
 * Checkpoint identity (SPEC.md section 5): a sha256 per tensor over its stored bytes, and a digest
 * over the sorted `(name, dtype, shape, sha256)` lines, so it ignores sharding and file order.
 *
 * `tensorSha256` and `checkpointDigest` use Web Crypto only (edge-safe); `hashCheckpoint` streams
 * from disk through node:crypto, imported lazily so that importing this module stays edge-safe.
 */
import { SafetensorsFormatError } from '../errors/errors.js';
import type { Checkpoint } from './checkpoint.js';
import { type Dtype, isDtype } from './dtypes.js';

/**
 * What the checkpoint digest covers for one tensor.
 *
 * @example
 * ```ts
 * const e: TensorDigestEntry = { name: 'w', dtype: 'F16', shape: [2], sha256: await tensorSha256(bytes) };
 * ```
 */
export interface TensorDigestEntry {
  name: string;
  dtype: Dtype;
  shape: number[];
  /** Lower-case hex sha256 of the tensor's stored bytes. */
  sha256: string;
}

/**
 * Result of {@link hashCheckpoint}.
 *
 * @example
 * ```ts
 * const { digest, tensors }: CheckpointHash = await hashCheckpoint(ckpt);
 * ```
 */
export interface CheckpointHash {
  /** `sha256:<64 hex>`. */
  digest: string;
  tensors: Record<string, { dtype: Dtype; shape: number[]; sha256: string }>;
}

function toHex(buf: ArrayBuffer): string {
  const b = new Uint8Array(buf);
  let s = '';
  for (let i = 0; i < b.length; i++) s += b[i].toString(16).padStart(2, '0');
  return s;
}

/**
 * Lower-case hex sha256 of a tensor's bytes.
 *
 * @example
 * ```ts
 * const sha = await tensorSha256(await file.readBytes('model.norm.weight'));
 * ```
 */
export async function tensorSha256(bytes: Uint8Array): Promise<string> {
  // Web Crypto refuses views over SharedArrayBuffer; copy only in that rare case.
  const src = bytes.buffer instanceof ArrayBuffer ? bytes : new Uint8Array(bytes);
  return toHex(await crypto.subtle.digest('SHA-256', src as Uint8Array<ArrayBuffer>));
}

const SHA_HEX = /^[0-9a-f]{64}$/;

/**
 * The checkpoint digest `sha256:<hex>` over one line per tensor, sorted by name in UTF-16
 * code-unit order: `name\tdtype\tdim0,dim1,...\tsha256\n`. Names containing a tab or newline are
 * refused: they would let two different checkpoints produce the same text.
 *
 * @example
 * ```ts
 * const digest = await checkpointDigest([
 *   { name: 'w', dtype: 'F16', shape: [2, 3], sha256: await tensorSha256(bytes) },
 * ]); // 'sha256:…'
 * ```
 */
export async function checkpointDigest(tensors: TensorDigestEntry[]): Promise<string> {
  const sorted = tensors.slice().sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  let text = '';
  for (let i = 0; i < sorted.length; i++) {
    const t = sorted[i];
    if (i > 0 && sorted[i - 1].name === t.name) {
      throw new SafetensorsFormatError(`checkpoint digest: duplicate tensor ${JSON.stringify(t.name)}`, {
        reason: 'duplicate_tensor',
        tensor: t.name,
      });
    }
    if (/[\t\n]/.test(t.name)) {
      throw new SafetensorsFormatError(
        `checkpoint digest: tensor name ${JSON.stringify(t.name)} has a tab or newline`,
        {
          reason: 'bad_name',
          tensor: t.name,
        },
      );
    }
    if (
      !isDtype(t.dtype) ||
      !Array.isArray(t.shape) ||
      !t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)
    ) {
      throw new SafetensorsFormatError(
        `checkpoint digest: tensor ${JSON.stringify(t.name)} has a bad dtype or shape`,
        {
          reason: 'bad_tensor',
          tensor: t.name,
        },
      );
    }
    if (!SHA_HEX.test(t.sha256)) {
      throw new SafetensorsFormatError(
        `checkpoint digest: tensor ${JSON.stringify(t.name)} sha256 is not 64 hex`,
        {
          reason: 'bad_sha256',
          tensor: t.name,
        },
      );
    }
    text += `${t.name}\t${t.dtype}\t${t.shape.join(',')}\t${t.sha256}\n`;
  }
  const bytes = new TextEncoder().encode(text);
  return `sha256:${toHex(await crypto.subtle.digest('SHA-256', bytes))}`;
}

/**
 * Hashes every tensor of a checkpoint by streaming it (memory: one chunk) and returns the
 * checkpoint digest with the per-tensor hashes (the manifest's `base.tensors`).
 *
 * @example
 * ```ts
 * const { digest } = await hashCheckpoint(ckpt, (done, total) => bar.update(done / total));
 * ```
 */
export async function hashCheckpoint(
  ckpt: Checkpoint,
  onProgress?: (doneBytes: number, totalBytes: number) => void,
): Promise<CheckpointHash> {
  const { createHash } = await import('node:crypto');
  const totalBytes = ckpt.totalBytes();
  let doneBytes = 0;
  const entries: TensorDigestEntry[] = [];
  onProgress?.(0, totalBytes);
  for (const name of ckpt.names()) {
    const { dtype, shape } = ckpt.info(name);
    const h = createHash('sha256');
    for await (const chunk of ckpt.streamBytes(name)) {
      h.update(chunk);
      doneBytes += chunk.length;
      onProgress?.(doneBytes, totalBytes);
    }
    entries.push({ name, dtype, shape, sha256: h.digest('hex') });
  }
  const digest = await checkpointDigest(entries);
  const tensors = Object.fromEntries(
    entries.map((e) => [e.name, { dtype: e.dtype, shape: e.shape, sha256: e.sha256 }]),
  );
  return { digest, tensors };
}
