/**
 * Streaming, atomic safetensors writer (Node). Tensor data is produced one tensor at a time, so
 * peak memory is the largest tensor, and the target path only ever holds a complete file.
 */
import { createHash, randomBytes } from 'node:crypto';
import { type FileHandle, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { SafetensorsFormatError } from '../errors/errors.js';
import type { Dtype } from './dtypes.js';
import { buildSafetensorsHeader } from './header-writer.js';

/**
 * A tensor to write. `data` may be a function so it is produced only when its turn comes.
 *
 * @example
 * ```ts
 * const e: TensorEntry = { name: 'w', dtype: 'F16', shape: [n], data: () => encodeFromFloat32(w, 'F16') };
 * ```
 */
export interface TensorEntry {
  name: string;
  dtype: Dtype;
  shape: number[];
  data: Uint8Array | (() => Promise<Uint8Array> | Uint8Array);
}

/**
 * Size and sha256 (lower-case hex) of the whole written file.
 *
 * @example
 * ```ts
 * const { bytes, sha256 }: WrittenFile = await writeSafetensorsFile(path, entries);
 * ```
 */
export interface WrittenFile {
  bytes: number;
  sha256: string;
}

const MAX_WRITE = 1 << 30;

async function writeAll(fh: FileHandle, data: Uint8Array): Promise<void> {
  let done = 0;
  while (done < data.length) {
    const len = Math.min(data.length - done, MAX_WRITE);
    const { bytesWritten } = await fh.write(data, done, len);
    // A zero-byte write would spin forever; regular files only do it when something is badly wrong.
    if (bytesWritten === 0) throw new Error('safetensors writer: write made no progress');
    done += bytesWritten;
  }
}

/** Makes the rename durable: without it a crash can forget the new directory entry. */
async function syncDir(dir: string): Promise<void> {
  let d: FileHandle | undefined;
  try {
    d = await open(dir, 'r');
    await d.sync();
  } catch {
    // Some platforms (Windows) and filesystems cannot fsync a directory; the file itself is synced.
  } finally {
    await d?.close().catch(() => {});
  }
}

/**
 * Writes a safetensors file: header, then each tensor's data in order (lazily produced, length
 * checked against dtype × shape), hashing as it goes. Data goes to a temporary file in the same
 * directory, which is fsynced and renamed over `path`; on any error the temporary file is removed
 * and `path` is untouched.
 *
 * @example
 * ```ts
 * const { bytes, sha256 } = await writeSafetensorsFile('out/model.safetensors', [
 *   { name: 'w', dtype: 'F32', shape: [2], data: new Uint8Array(8) },
 *   { name: 'b', dtype: 'BF16', shape: [4], data: async () => encodeFromFloat32(values, 'BF16') },
 * ], { format: 'pt' });
 * ```
 */
export async function writeSafetensorsFile(
  path: string,
  entries: TensorEntry[],
  metadata?: Record<string, string>,
): Promise<WrittenFile> {
  const header = buildSafetensorsHeader(entries, metadata);
  const dir = dirname(path);
  // Same directory as the target so the rename cannot cross filesystems (and stays atomic).
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const hash = createHash('sha256');
  let fh: FileHandle | undefined;
  try {
    fh = await open(tmp, 'wx');
    await writeAll(fh, header.bytes);
    hash.update(header.bytes);
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i];
      const t = header.tensors[i];
      const data = typeof entry.data === 'function' ? await entry.data() : entry.data;
      if (!(data instanceof Uint8Array)) {
        throw new SafetensorsFormatError(
          `safetensors writer: tensor ${JSON.stringify(t.name)}: data is not bytes`,
          {
            reason: 'bad_data',
            tensor: t.name,
          },
        );
      }
      if (data.length !== t.end - t.begin) {
        throw new SafetensorsFormatError(
          `safetensors writer: tensor ${JSON.stringify(t.name)}: ${t.dtype}[${t.shape.join(',')}] needs ${t.end - t.begin} bytes, got ${data.length}`,
          { reason: 'size_mismatch', tensor: t.name, expected: t.end - t.begin, actual: data.length },
        );
      }
      await writeAll(fh, data);
      hash.update(data);
    }
    await fh.sync();
    await fh.close();
    fh = undefined;
    await rename(tmp, path);
  } catch (e) {
    await fh?.close().catch(() => {});
    await unlink(tmp).catch(() => {});
    throw e;
  }
  await syncDir(dir);
  return { bytes: header.bytes.length + header.dataLength, sha256: hash.digest('hex') };
}
