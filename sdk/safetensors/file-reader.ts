/**
 * Bounded-memory reader for one local safetensors file (Node). Only the header is held in memory;
 * tensors are read on demand with positional reads, so a 100 GB shard costs its header's size.
 */
import { type FileHandle, open } from 'node:fs/promises';
import { SafetensorsFormatError } from '../errors/errors.js';
import { decodeToFloat32 } from './dtypes.js';
import {
  parseSafetensorsHeader,
  readHeaderLength,
  type SafetensorsHeader,
  type TensorInfo,
} from './header.js';

/**
 * Default chunk for {@link SafetensorsFile.streamBytes}: large enough to amortise syscalls.
 *
 * @example
 * ```ts
 * for await (const c of file.streamBytes(name, 4 * DEFAULT_CHUNK_BYTES)) sink.write(c);
 * ```
 */
export const DEFAULT_CHUNK_BYTES = 8 * 1024 * 1024;

// fs read lengths are capped near 2 GiB per call; stay well under it.
const MAX_READ = 1 << 30;

/**
 * Fills `buf` from `position`. A short read means the file shrank after its size was checked, which
 * is reported as truncation rather than returning zeros.
 */
async function readExactly(fh: FileHandle, buf: Uint8Array, position: number, path: string): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    const len = Math.min(buf.length - done, MAX_READ);
    const { bytesRead } = await fh.read(buf, done, len, position + done);
    if (bytesRead === 0) {
      throw new SafetensorsFormatError(`safetensors: ${path} ended early (truncated while reading)`, {
        reason: 'truncated',
        path,
        position: position + done,
      });
    }
    done += bytesRead;
  }
}

/**
 * One open safetensors file. Tensor reads may run concurrently (positional reads share no cursor).
 *
 * @example
 * ```ts
 * const f = await SafetensorsFile.open('model.safetensors');
 * try {
 *   const w = await f.readFloat32('lm_head.weight');
 * } finally {
 *   await f.close();
 * }
 * ```
 */
export class SafetensorsFile {
  readonly path: string;
  readonly header: SafetensorsHeader;
  /** File size in bytes at open. */
  readonly size: number;
  #fh: FileHandle | undefined;
  readonly #byName: Map<string, TensorInfo>;

  private constructor(path: string, fh: FileHandle, header: SafetensorsHeader, size: number) {
    this.path = path;
    this.#fh = fh;
    this.header = header;
    this.size = size;
    this.#byName = new Map(header.tensors.map((t) => [t.name, t]));
  }

  /**
   * Opens and validates a file: reads 8 bytes, checks `N` against the file size, then reads `N`.
   * Throws {@link SafetensorsFormatError} for any malformed or truncated file.
   *
   * @example
   * ```ts
   * const f = await SafetensorsFile.open('/models/llama/model-00001-of-00002.safetensors');
   * console.log(f.names().length);
   * ```
   */
  static async open(path: string): Promise<SafetensorsFile> {
    const fh = await open(path, 'r');
    try {
      const { size } = await fh.stat();
      const first8 = new Uint8Array(Math.min(8, size));
      await readExactly(fh, first8, 0, path);
      const n = readHeaderLength(first8, size);
      const json = new Uint8Array(n);
      await readExactly(fh, json, 8, path);
      const parsed = parseSafetensorsHeader(json, size - 8 - n);
      return new SafetensorsFile(path, fh, { headerLength: n, dataOffset: 8 + n, ...parsed }, size);
    } catch (e) {
      await fh.close().catch(() => {});
      if (e instanceof SafetensorsFormatError && e.details && !('path' in e.details)) {
        throw new SafetensorsFormatError(`${e.message} (${path})`, { ...e.details, path }, { cause: e });
      }
      throw e;
    }
  }

  /**
   * Whether the file holds a tensor of that name.
   *
   * @example
   * ```ts
   * if (f.has('lm_head.weight')) await f.readBytes('lm_head.weight');
   * ```
   */
  has(name: string): boolean {
    return this.#byName.has(name);
  }

  /**
   * The tensor's dtype, shape and offsets; throws `SafetensorsFormatError` with
   * `details.reason === 'tensor_not_found'` when absent.
   *
   * @example
   * ```ts
   * const { dtype, shape } = f.info('model.norm.weight');
   * ```
   */
  info(name: string): TensorInfo {
    const t = this.#byName.get(name);
    if (!t) {
      throw new SafetensorsFormatError(`safetensors: no tensor ${JSON.stringify(name)} in ${this.path}`, {
        reason: 'tensor_not_found',
        tensor: name,
        path: this.path,
      });
    }
    return t;
  }

  /**
   * Tensor names in file (data) order.
   *
   * @example
   * ```ts
   * const sorted = f.names().sort();
   * ```
   */
  names(): string[] {
    return this.header.tensors.map((t) => t.name);
  }

  #handle(): FileHandle {
    if (!this.#fh) {
      throw new SafetensorsFormatError(`safetensors: ${this.path} is closed`, {
        reason: 'closed',
        path: this.path,
      });
    }
    return this.#fh;
  }

  /**
   * The tensor's raw little-endian bytes, as stored (a fresh, unshared buffer).
   *
   * @example
   * ```ts
   * const raw = await f.readBytes('model.embed_tokens.weight');
   * ```
   */
  async readBytes(name: string): Promise<Uint8Array> {
    const t = this.info(name);
    const fh = this.#handle();
    // Safe to allocate: open() proved begin..end lies inside the file.
    const buf = new Uint8Array(t.end - t.begin);
    await readExactly(fh, buf, this.header.dataOffset + t.begin, this.path);
    return buf;
  }

  /**
   * The tensor decoded to float32 (see `decodeToFloat32` for the supported dtypes).
   *
   * @example
   * ```ts
   * const w = await f.readFloat32('model.layers.0.mlp.up_proj.weight');
   * ```
   */
  async readFloat32(name: string): Promise<Float32Array> {
    const t = this.info(name);
    return decodeToFloat32(await this.readBytes(name), t.dtype);
  }

  /**
   * The tensor's bytes in chunks of at most `chunkBytes`, each a fresh buffer the caller may keep.
   * Memory stays at one chunk however large the tensor is.
   *
   * @example
   * ```ts
   * const h = createHash('sha256');
   * for await (const chunk of f.streamBytes('lm_head.weight')) h.update(chunk);
   * ```
   */
  async *streamBytes(name: string, chunkBytes: number = DEFAULT_CHUNK_BYTES): AsyncIterable<Uint8Array> {
    if (!Number.isSafeInteger(chunkBytes) || chunkBytes <= 0) {
      throw new SafetensorsFormatError(`safetensors: chunkBytes must be a positive integer`, {
        reason: 'bad_chunk_size',
        chunkBytes,
      });
    }
    const t = this.info(name);
    let pos = this.header.dataOffset + t.begin;
    const stop = this.header.dataOffset + t.end;
    while (pos < stop) {
      const buf = new Uint8Array(Math.min(chunkBytes, stop - pos));
      await readExactly(this.#handle(), buf, pos, this.path);
      pos += buf.length;
      yield buf;
    }
  }

  /**
   * Closes the file handle; later reads throw. Closing twice is harmless.
   *
   * @example
   * ```ts
   * await f.close();
   * ```
   */
  async close(): Promise<void> {
    const fh = this.#fh;
    this.#fh = undefined;
    await fh?.close();
  }
}
