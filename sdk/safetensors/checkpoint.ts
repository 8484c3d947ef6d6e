/**
 * A checkpoint directory in Hugging Face layout (Node): a sharded set described by
 * `model.safetensors.index.json`, else a single `model.safetensors`, else every `*.safetensors`
 * in the directory. Tensor names are unique across the whole checkpoint, whichever layout.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { InvalidInputError, SafetensorsFormatError } from '../errors/errors.js';
import { SafetensorsFile } from './file-reader.js';
import { type TensorEntry, writeSafetensorsFile } from './file-writer.js';
import { MAX_HEADER_BYTES, type TensorInfo } from './header.js';
import { buildSafetensorsHeader } from './header-writer.js';

/**
 * Name of the shard index file.
 *
 * @example
 * ```ts
 * const indexPath = join(dir, INDEX_FILE);
 * ```
 */
export const INDEX_FILE = 'model.safetensors.index.json';
/**
 * Name of the single-file layout.
 *
 * @example
 * ```ts
 * const single = join(dir, SINGLE_FILE);
 * ```
 */
export const SINGLE_FILE = 'model.safetensors';

// Index files list one line per tensor; 100 MB is orders of magnitude above any real model's.
const MAX_INDEX_BYTES = MAX_HEADER_BYTES;

const IndexSchema = z.object({
  // HF writes e.g. {"total_size": 13476839424}: numbers as well as strings, so not narrowed.
  metadata: z.record(z.string(), z.unknown()).nullish(),
  weight_map: z.record(z.string(), z.string()),
});

function fail(message: string, details: Record<string, unknown>): never {
  throw new SafetensorsFormatError(`checkpoint: ${message}`, details);
}

/** A shard reference must stay inside the directory: no separators, no dot names, no NUL. */
function isPlainBasename(s: string): boolean {
  return s.length > 0 && s !== '.' && s !== '..' && !/[/\\\0]/.test(s) && !/^[a-zA-Z]:/.test(s);
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
}

function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Opens all files, closing the ones that opened if any fails (no leaked handles). */
async function openAll(dir: string, files: string[]): Promise<Map<string, SafetensorsFile>> {
  const settled = await Promise.allSettled(files.map((f) => SafetensorsFile.open(join(dir, f))));
  const failed = settled.find((s) => s.status === 'rejected');
  if (failed) {
    await Promise.all(settled.map((s) => (s.status === 'fulfilled' ? s.value.close() : undefined)));
    throw failed.reason;
  }
  return new Map(files.map((f, i) => [f, (settled[i] as PromiseFulfilledResult<SafetensorsFile>).value]));
}

async function readIndex(
  dir: string,
): Promise<{ weightMap: Map<string, string>; metadata: Record<string, unknown> }> {
  const path = join(dir, INDEX_FILE);
  const { size } = await stat(path);
  if (size > MAX_INDEX_BYTES)
    fail(`${INDEX_FILE} is ${size} bytes, over the ${MAX_INDEX_BYTES}-byte limit`, { path });
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, 'utf8'));
  } catch (e) {
    throw new SafetensorsFormatError(`checkpoint: ${INDEX_FILE} is not valid JSON`, { path }, { cause: e });
  }
  const parsed = IndexSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    fail(`${INDEX_FILE}: ${issue.path.join('.') || '(root)'}: ${issue.message}`, {
      path,
      issues: parsed.error.issues.slice(0, 5).map((i) => ({ path: i.path.map(String), message: i.message })),
    });
  }
  // Entries from the raw JSON, not zod's copy: JSON.parse keeps a "__proto__" key as plain data.
  const map = new Map<string, string>();
  for (const [tensor, shard] of Object.entries((raw as { weight_map: Record<string, string> }).weight_map)) {
    if (!isPlainBasename(shard)) {
      fail(
        `${INDEX_FILE}: shard ${JSON.stringify(shard)} for ${JSON.stringify(tensor)} is not a plain file name`,
        {
          path,
          tensor,
          shard,
        },
      );
    }
    map.set(tensor, shard);
  }
  const metadata = (raw as { metadata?: Record<string, unknown> | null }).metadata ?? {};
  return { weightMap: map, metadata: Object.fromEntries(Object.entries(metadata)) };
}

/**
 * A read-only view of a checkpoint directory. Holds one open handle per file and only headers in
 * memory.
 *
 * @example
 * ```ts
 * const ckpt = await Checkpoint.open('/models/llama-2-7b');
 * try {
 *   for (const name of ckpt.names()) console.log(name, ckpt.info(name).shape);
 * } finally {
 *   await ckpt.close();
 * }
 * ```
 */
export class Checkpoint {
  readonly dir: string;
  /** `metadata` of the shard index (e.g. `total_size`), or `{}` without one. */
  readonly indexMetadata: Record<string, unknown>;
  readonly #files: Map<string, SafetensorsFile>;
  readonly #where: Map<string, string>;
  readonly #names: string[];

  private constructor(
    dir: string,
    files: Map<string, SafetensorsFile>,
    where: Map<string, string>,
    indexMetadata: Record<string, unknown>,
  ) {
    this.dir = dir;
    this.#files = files;
    this.#where = where;
    this.#names = [...where.keys()].sort(compareNames);
    this.indexMetadata = indexMetadata;
  }

  /**
   * Opens and validates a checkpoint directory (every header, the index's consistency with the
   * shards, and name uniqueness). Throws `SafetensorsFormatError` on any inconsistency.
   *
   * @example
   * ```ts
   * const ckpt = await Checkpoint.open('./out');
   * ```
   */
  static async open(dir: string): Promise<Checkpoint> {
    if (await isFile(join(dir, INDEX_FILE))) return Checkpoint.#openIndexed(dir);
    const files = (await isFile(join(dir, SINGLE_FILE)))
      ? [SINGLE_FILE]
      : (await readdir(dir, { withFileTypes: true }))
          .filter((d) => d.isFile() && d.name.endsWith('.safetensors'))
          .map((d) => d.name)
          .sort(compareNames);
    if (files.length === 0) fail(`no ${INDEX_FILE}, ${SINGLE_FILE} or *.safetensors in ${dir}`, { dir });
    const opened = await openAll(dir, files);
    const where = new Map<string, string>();
    try {
      for (const [file, f] of opened) {
        for (const name of f.names()) {
          const other = where.get(name);
          if (other !== undefined) {
            fail(`tensor ${JSON.stringify(name)} is in both ${other} and ${file}`, {
              dir,
              tensor: name,
              files: [other, file],
            });
          }
          where.set(name, file);
        }
      }
    } catch (e) {
      await Promise.all([...opened.values()].map((f) => f.close()));
      throw e;
    }
    return new Checkpoint(dir, opened, where, {});
  }

  static async #openIndexed(dir: string): Promise<Checkpoint> {
    const { weightMap, metadata } = await readIndex(dir);
    const shards = [...new Set(weightMap.values())].sort(compareNames);
    const opened = await openAll(dir, shards);
    try {
      for (const [tensor, shard] of weightMap) {
        if (!opened.get(shard)!.has(tensor)) {
          fail(`${INDEX_FILE} maps ${JSON.stringify(tensor)} to ${shard}, which does not contain it`, {
            dir,
            tensor,
            shard,
          });
        }
      }
      for (const [shard, f] of opened) {
        for (const name of f.names()) {
          const mapped = weightMap.get(name);
          if (mapped !== shard) {
            // Either an unlisted tensor or the same tensor in two shards: both make "the" checkpoint
            // ambiguous, and the digest must not depend on which copy a reader happens to pick.
            fail(
              mapped === undefined
                ? `${shard} holds ${JSON.stringify(name)}, which ${INDEX_FILE} does not list`
                : `tensor ${JSON.stringify(name)} is in both ${mapped} and ${shard}`,
              { dir, tensor: name, shard, mappedTo: mapped },
            );
          }
        }
      }
    } catch (e) {
      await Promise.all([...opened.values()].map((f) => f.close()));
      throw e;
    }
    return new Checkpoint(dir, opened, weightMap, metadata);
  }

  /**
   * Every tensor name, sorted by UTF-16 code unit (the digest's order).
   *
   * @example
   * ```ts
   * ckpt.names().filter((n) => n.endsWith('.weight'));
   * ```
   */
  names(): string[] {
    return this.#names.slice();
  }

  /**
   * Whether the checkpoint has that tensor.
   *
   * @example
   * ```ts
   * ckpt.has('lm_head.weight');
   * ```
   */
  has(name: string): boolean {
    return this.#where.has(name);
  }

  #file(name: string): SafetensorsFile {
    const file = this.#where.get(name);
    if (file === undefined) {
      throw new SafetensorsFormatError(`checkpoint: no tensor ${JSON.stringify(name)} in ${this.dir}`, {
        reason: 'tensor_not_found',
        tensor: name,
        dir: this.dir,
      });
    }
    return this.#files.get(file)!;
  }

  /**
   * Dtype, shape and offsets of a tensor plus `file`, the basename of the file holding it.
   *
   * @example
   * ```ts
   * const { dtype, shape, file } = ckpt.info('model.norm.weight');
   * ```
   */
  info(name: string): TensorInfo & { file: string } {
    const t = this.#file(name).info(name);
    return { ...t, shape: t.shape.slice(), file: this.#where.get(name)! };
  }

  /**
   * Raw bytes of a tensor, as stored.
   *
   * @example
   * ```ts
   * const raw = await ckpt.readBytes('model.norm.weight');
   * ```
   */
  readBytes(name: string): Promise<Uint8Array> {
    return this.#file(name).readBytes(name);
  }

  /**
   * A tensor decoded to float32.
   *
   * @example
   * ```ts
   * const w = await ckpt.readFloat32('model.layers.0.self_attn.q_proj.weight');
   * ```
   */
  readFloat32(name: string): Promise<Float32Array> {
    return this.#file(name).readFloat32(name);
  }

  /**
   * A tensor's bytes in bounded chunks (see `SafetensorsFile.streamBytes`).
   *
   * @example
   * ```ts
   * for await (const chunk of ckpt.streamBytes('lm_head.weight')) hash.update(chunk);
   * ```
   */
  streamBytes(name: string, chunkBytes?: number): AsyncIterable<Uint8Array> {
    return this.#file(name).streamBytes(name, chunkBytes);
  }

  /**
   * Basenames of the files that make up the checkpoint, sorted.
   *
   * @example
   * ```ts
   * ckpt.files(); // ['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors']
   * ```
   */
  files(): string[] {
    return [...this.#files.keys()];
  }

  /**
   * Sum of all tensors' data bytes (what hashing or copying the checkpoint reads).
   *
   * @example
   * ```ts
   * console.log(`${ckpt.totalBytes() / 2 ** 30} GiB`);
   * ```
   */
  totalBytes(): number {
    let n = 0;
    for (const f of this.#files.values()) n += f.header.dataLength;
    return n;
  }

  /**
   * Closes every file handle.
   *
   * @example
   * ```ts
   * await ckpt.close();
   * ```
   */
  async close(): Promise<void> {
    await Promise.all([...this.#files.values()].map((f) => f.close()));
  }
}

/**
 * Options for {@link writeShardedCheckpoint}.
 *
 * @example
 * ```ts
 * const opts: ShardOptions = { maxShardBytes: 5 * 2 ** 30, metadata: { format: 'pt' } };
 * ```
 */
export interface ShardOptions {
  /** Largest data size of one shard; a single larger tensor gets a shard to itself. */
  maxShardBytes: number;
  /** `__metadata__` for every shard (HF writes `{ format: 'pt' }`). */
  metadata?: Record<string, string>;
}

function pad5(n: number): string {
  return String(n).padStart(5, '0');
}

async function writeTextAtomic(path: string, text: string): Promise<void> {
  const tmp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    const fh = await open(tmp, 'wx');
    try {
      await fh.writeFile(text, 'utf8');
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => {});
    throw e;
  }
}

/**
 * Writes tensors as a checkpoint directory: shards of at most `maxShardBytes` of data each, filled
 * greedily in the given order, named `model-0000i-of-0000n.safetensors`, plus
 * `model.safetensors.index.json` (written last: its presence marks a complete checkpoint). A single
 * shard is written as `model.safetensors` with no index, as Hugging Face does. The directory must
 * hold no checkpoint yet; on failure the files written so far are removed.
 *
 * @example
 * ```ts
 * await writeShardedCheckpoint('./merged', entries, { maxShardBytes: 5 * 2 ** 30, metadata: { format: 'pt' } });
 * ```
 */
export async function writeShardedCheckpoint(
  dir: string,
  entries: TensorEntry[],
  { maxShardBytes, metadata }: ShardOptions,
): Promise<void> {
  if (!Number.isSafeInteger(maxShardBytes) || maxShardBytes <= 0) {
    throw new InvalidInputError(`maxShardBytes must be a positive integer, got ${String(maxShardBytes)}`, {
      maxShardBytes,
    });
  }
  // Validates every declaration (and name uniqueness across shards) before anything touches disk.
  const { tensors } = buildSafetensorsHeader(entries);
  await mkdir(dir, { recursive: true });
  const existing = (await readdir(dir)).filter((f) => f === INDEX_FILE || f.endsWith('.safetensors'));
  if (existing.length > 0) {
    throw new InvalidInputError(`${dir} already holds a checkpoint (${existing[0]})`, { dir, existing });
  }

  const groups: TensorEntry[][] = [];
  let current: TensorEntry[] = [];
  let currentBytes = 0;
  entries.forEach((entry, i) => {
    const size = tensors[i].end - tensors[i].begin;
    if (current.length > 0 && currentBytes + size > maxShardBytes) {
      groups.push(current);
      current = [];
      currentBytes = 0;
    }
    current.push(entry);
    currentBytes += size;
  });
  if (current.length > 0 || groups.length === 0) groups.push(current);

  const names =
    groups.length === 1
      ? [SINGLE_FILE]
      : groups.map((_, i) => `model-${pad5(i + 1)}-of-${pad5(groups.length)}.safetensors`);
  const written: string[] = [];
  try {
    for (let i = 0; i < groups.length; i++) {
      const path = join(dir, names[i]);
      await writeSafetensorsFile(path, groups[i], metadata);
      written.push(path);
    }
    if (groups.length > 1) {
      const weightMap: [string, string][] = [];
      groups.forEach((g, i) => {
        for (const e of g) weightMap.push([e.name, names[i]]);
      });
      weightMap.sort((a, b) => compareNames(a[0], b[0]));
      const totalSize = tensors.reduce((n, t) => n + (t.end - t.begin), 0);
      const index = { metadata: { total_size: totalSize }, weight_map: Object.fromEntries(weightMap) };
      await writeTextAtomic(join(dir, INDEX_FILE), `${JSON.stringify(index, null, 2)}\n`);
    }
  } catch (e) {
    await Promise.all(written.map((p) => unlink(p).catch(() => {})));
    throw e;
  }
}
