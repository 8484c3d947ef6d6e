/**
 * Safetensors header parsing and validation (pure; web-standard APIs only, so it also runs on
 * edge runtimes that validate uploads without a filesystem).
 *
 * Layout: 8-byte little-endian u64 `N`, `N` bytes of UTF-8 JSON, then the data buffer. Offsets in
 * the JSON are relative to the data start (byte `8 + N`).
 */
import { SafetensorsFormatError } from '../errors/errors.js';
import { type Dtype, dtypeByteSize, isDtype } from './dtypes.js';

/**
 * One tensor as declared by a header. `begin`/`end` are byte offsets relative to the data start.
 *
 * @example
 * ```ts
 * const t: TensorInfo = { name: 'w', dtype: 'F16', shape: [2, 3], begin: 0, end: 12 };
 * const absolute = header.dataOffset + t.begin;
 * ```
 */
export interface TensorInfo {
  name: string;
  dtype: Dtype;
  shape: number[];
  begin: number;
  end: number;
}

/**
 * A validated header.
 *
 * @example
 * ```ts
 * const h: SafetensorsHeader = parseSafetensorsPrefix(prefix, fileSize);
 * console.log(h.metadata.format, h.tensors.length, h.dataOffset + h.dataLength === fileSize);
 * ```
 */
export interface SafetensorsHeader {
  /** `N`, the JSON length in bytes (padding included). */
  headerLength: number;
  /** Absolute file offset of the data buffer: `8 + N`. */
  dataOffset: number;
  /** Length of the data buffer: the last tensor's `end` (0 with no tensors). */
  dataLength: number;
  /** Sorted by `begin` (then `end`, then name, so zero-length tensors order deterministically). */
  tensors: TensorInfo[];
  /** `__metadata__`, or `{}` when absent. */
  metadata: Record<string, string>;
}

/**
 * Largest header (`N`) a reader accepts: 100 MB (SPEC.md section 6).
 *
 * @example
 * ```ts
 * const prefix = await blob.slice(0, 8 + MAX_HEADER_BYTES).arrayBuffer(); // never more than this
 * ```
 */
export const MAX_HEADER_BYTES = 100_000_000;
/**
 * Longest tensor name, in UTF-8 bytes.
 *
 * @example
 * ```ts
 * if (new TextEncoder().encode(name).length > MAX_NAME_BYTES) throw new Error('name too long');
 * ```
 */
export const MAX_NAME_BYTES = 1024;
/**
 * Most dimensions a tensor may have.
 *
 * @example
 * ```ts
 * if (shape.length > MAX_RANK) throw new Error('rank too high');
 * ```
 */
export const MAX_RANK = 8;

const METADATA_KEY = '__metadata__';

/** Keeps messages one line and bounded even when the offending value is a 100 MB string. */
function show(v: unknown): string {
  let s: string;
  try {
    s = typeof v === 'string' ? JSON.stringify(v) : (JSON.stringify(v) ?? String(v));
  } catch {
    s = String(v);
  }
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

function fail(message: string, details: Record<string, unknown>): never {
  throw new SafetensorsFormatError(`safetensors header: ${message}`, details);
}

/** Whether `s` is longer than MAX_NAME_BYTES in UTF-8, without encoding it in the common cases. */
function nameTooLong(s: string): boolean {
  // Every UTF-16 code unit takes 1 to 3 UTF-8 bytes (a surrogate pair: 4 for 2 units).
  if (s.length * 3 <= MAX_NAME_BYTES) return false;
  if (s.length > MAX_NAME_BYTES) return true;
  return new TextEncoder().encode(s).length > MAX_NAME_BYTES;
}

/**
 * Reads and checks the 8-byte header length `N`. Checks `N <= MAX_HEADER_BYTES`, `N >= 2` (the
 * smallest JSON object) and, when `fileSize` is known, `8 + N <= fileSize`, so callers may then
 * allocate `N` bytes safely.
 *
 * @example
 * ```ts
 * const n = readHeaderLength(first8, stat.size);
 * ```
 */
export function readHeaderLength(first8: Uint8Array, fileSize?: number): number {
  if (first8.length < 8) {
    fail(`file is ${first8.length} bytes, shorter than the 8-byte length prefix`, {
      reason: 'short_prefix',
      length: first8.length,
    });
  }
  const view = new DataView(first8.buffer, first8.byteOffset, 8);
  const lo = view.getUint32(0, true);
  const hi = view.getUint32(4, true);
  if (hi !== 0 || lo > MAX_HEADER_BYTES) {
    const declared = ((BigInt(hi) << 32n) | BigInt(lo)).toString();
    fail(`declared header length ${declared} exceeds the ${MAX_HEADER_BYTES}-byte limit`, {
      reason: 'header_too_large',
      declared,
      max: MAX_HEADER_BYTES,
    });
  }
  if (lo < 2) {
    fail(`declared header length ${lo} is too small for a JSON object`, {
      reason: 'header_too_small',
      declared: lo,
    });
  }
  if (fileSize !== undefined && 8 + lo > fileSize) {
    fail(`declared header length ${lo} runs past the end of the ${fileSize}-byte file`, {
      reason: 'header_past_eof',
      declared: lo,
      fileSize,
    });
  }
  return lo;
}

function checkShape(name: string, raw: unknown): number[] {
  if (!Array.isArray(raw))
    fail(`tensor ${show(name)}: shape is not an array`, {
      reason: 'bad_shape',
      tensor: name,
      field: 'shape',
    });
  if (raw.length > MAX_RANK) {
    fail(`tensor ${show(name)}: rank ${raw.length} exceeds ${MAX_RANK}`, {
      reason: 'rank_too_high',
      tensor: name,
      field: 'shape',
      rank: raw.length,
    });
  }
  for (const d of raw) {
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) {
      fail(`tensor ${show(name)}: shape dimension ${show(d)} is not a safe non-negative integer`, {
        reason: 'bad_shape',
        tensor: name,
        field: 'shape',
        value: show(d),
      });
    }
  }
  return raw.slice() as number[];
}

/**
 * Elements × dtype size with checked safe-integer math. Folds left to right and refuses any
 * intermediate overflow (as the reference Rust reader does), so `[2^40, 2^40, 0]` is refused.
 */
function byteSize(name: string, dtype: Dtype, shape: number[]): number {
  let n = dtypeByteSize(dtype);
  for (const d of shape) {
    const next = n * d;
    if (!Number.isSafeInteger(next)) {
      fail(`tensor ${show(name)}: byte size of shape ${show(shape)} overflows`, {
        reason: 'size_overflow',
        tensor: name,
        field: 'shape',
        shape: show(shape),
      });
    }
    n = next;
  }
  return n;
}

function checkOffsets(name: string, raw: unknown): [number, number] {
  if (!Array.isArray(raw) || raw.length !== 2) {
    fail(`tensor ${show(name)}: data_offsets is not a [begin, end] pair`, {
      reason: 'bad_offsets',
      tensor: name,
      field: 'data_offsets',
    });
  }
  const [b, e] = raw;
  for (const v of [b, e]) {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
      fail(`tensor ${show(name)}: data offset ${show(v)} is not a safe non-negative integer`, {
        reason: 'bad_offsets',
        tensor: name,
        field: 'data_offsets',
        value: show(v),
      });
    }
  }
  if (e < b) {
    fail(`tensor ${show(name)}: data_offsets end ${e} is before begin ${b}`, {
      reason: 'bad_offsets',
      tensor: name,
      field: 'data_offsets',
      begin: b,
      end: e,
    });
  }
  return [b, e];
}

function checkMetadata(raw: unknown): Record<string, string> {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    fail('__metadata__ is not an object', { reason: 'bad_metadata', field: METADATA_KEY });
  }
  const entries: [string, string][] = [];
  for (const [k, v] of Object.entries(raw)) {
    if (typeof v !== 'string') {
      fail(`__metadata__ value for ${show(k)} is not a string`, {
        reason: 'bad_metadata',
        field: METADATA_KEY,
        key: show(k),
      });
    }
    entries.push([k, v]);
  }
  // fromEntries defines own properties, so a "__proto__" key stays data, not a prototype swap.
  return Object.fromEntries(entries);
}

function compareTensors(a: TensorInfo, b: TensorInfo): number {
  if (a.begin !== b.begin) return a.begin - b.begin;
  if (a.end !== b.end) return a.end - b.end;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Parses and validates the `N` JSON bytes of a header. When `dataLength` is given (file size − 8 −
 * N), the tensors must tile exactly that many bytes; otherwise the data length is taken from the
 * last tensor's `end`.
 *
 * @example
 * ```ts
 * const { tensors, metadata } = parseSafetensorsHeader(json, fileSize - 8 - json.length);
 * ```
 */
export function parseSafetensorsHeader(
  headerBytes: Uint8Array,
  dataLength?: number,
): Omit<SafetensorsHeader, 'headerLength' | 'dataOffset'> {
  if (headerBytes.length > MAX_HEADER_BYTES) {
    fail(`header of ${headerBytes.length} bytes exceeds the ${MAX_HEADER_BYTES}-byte limit`, {
      reason: 'header_too_large',
      declared: headerBytes.length,
    });
  }
  // The reference reader insists on '{' first; leading whitespace or a BOM would let readers disagree.
  if (headerBytes[0] !== 0x7b) {
    fail('header does not start with "{"', { reason: 'bad_header_start' });
  }
  let text: string;
  try {
    text = decoder.decode(headerBytes);
  } catch (e) {
    throw new SafetensorsFormatError(
      'safetensors header: not valid UTF-8',
      { reason: 'invalid_utf8' },
      { cause: e },
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new SafetensorsFormatError(
      `safetensors header: not valid JSON (${show((e as Error).message)})`,
      { reason: 'invalid_json' },
      { cause: e },
    );
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    fail('JSON is not an object', { reason: 'not_object' });
  }

  let metadata: Record<string, string> = {};
  const tensors: TensorInfo[] = [];
  for (const [name, entry] of Object.entries(json)) {
    if (name === METADATA_KEY) {
      metadata = checkMetadata(entry);
      continue;
    }
    if (nameTooLong(name)) {
      fail(`tensor name ${show(name)} is longer than ${MAX_NAME_BYTES} bytes`, {
        reason: 'name_too_long',
        tensor: show(name),
      });
    }
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      fail(`tensor ${show(name)}: entry is not an object`, { reason: 'bad_entry', tensor: name });
    }
    const { dtype, shape: rawShape, data_offsets } = entry as Record<string, unknown>;
    if (typeof dtype !== 'string' || !isDtype(dtype)) {
      fail(`tensor ${show(name)}: unknown dtype ${show(dtype)}`, {
        reason: 'unknown_dtype',
        tensor: name,
        field: 'dtype',
        value: show(dtype),
      });
    }
    const shape = checkShape(name, rawShape);
    const [begin, end] = checkOffsets(name, data_offsets);
    const bytes = byteSize(name, dtype, shape);
    if (bytes !== end - begin) {
      fail(
        `tensor ${show(name)}: ${dtype}${show(shape)} needs ${bytes} bytes but data_offsets span ${end - begin}`,
        {
          tensor: name,
          reason: 'size_mismatch',
          expected: bytes,
          actual: end - begin,
        },
      );
    }
    tensors.push({ name, dtype, shape, begin, end });
  }

  tensors.sort(compareTensors);
  // Tiling: each span starts where the previous ended, so no byte is shared, skipped or trailing.
  let pos = 0;
  for (const t of tensors) {
    if (t.begin !== pos) {
      const what = t.begin < pos ? 'overlaps the previous tensor' : 'leaves a gap after the previous tensor';
      fail(`tensor ${show(t.name)}: data_offsets [${t.begin}, ${t.end}] ${what} (expected begin ${pos})`, {
        tensor: t.name,
        reason: t.begin < pos ? 'overlap' : 'gap',
        begin: t.begin,
        expectedBegin: pos,
      });
    }
    pos = t.end;
  }
  if (dataLength !== undefined && pos !== dataLength) {
    const truncated = pos > dataLength;
    fail(
      truncated
        ? `tensors need ${pos} data bytes but the file has ${dataLength} (truncated)`
        : `tensors end at byte ${pos} but the data buffer is ${dataLength} bytes (trailing bytes)`,
      { reason: truncated ? 'truncated' : 'trailing_bytes', tensorsEnd: pos, dataLength },
    );
  }
  return { dataLength: pos, tensors, metadata };
}

/**
 * Parses the first `8 + N` bytes of a safetensors file (more is fine; the rest is ignored). Pass
 * `fileSize` whenever it is known: it is what catches truncation and trailing garbage.
 *
 * @example
 * ```ts
 * const header = parseSafetensorsPrefix(new Uint8Array(await blob.slice(0, 1 << 20).arrayBuffer()), blob.size);
 * ```
 */
export function parseSafetensorsPrefix(prefix: Uint8Array, fileSize?: number): SafetensorsHeader {
  const headerLength = readHeaderLength(prefix, fileSize);
  if (prefix.length < 8 + headerLength) {
    fail(`prefix has ${prefix.length} bytes but the header needs ${8 + headerLength}`, {
      reason: 'short_prefix',
      length: prefix.length,
      needed: 8 + headerLength,
    });
  }
  const dataLength = fileSize === undefined ? undefined : fileSize - 8 - headerLength;
  const parsed = parseSafetensorsHeader(prefix.subarray(8, 8 + headerLength), dataLength);
  return { headerLength, dataOffset: 8 + headerLength, ...parsed };
}

/**
 * Parses a whole safetensors file held in memory (its length is the file size).
 *
 * @example
 * ```ts
 * const header = parseSafetensorsBuffer(new Uint8Array(await res.arrayBuffer()));
 * ```
 */
export function parseSafetensorsBuffer(file: Uint8Array): SafetensorsHeader {
  return parseSafetensorsPrefix(file, file.length);
}

/**
 * The bytes of one tensor inside an in-memory file parsed with {@link parseSafetensorsBuffer}
 * (a view, no copy).
 *
 * @example
 * ```ts
 * const t = header.tensors[0];
 * const bytes = tensorView(file, header, t);
 * ```
 */
export function tensorView(file: Uint8Array, header: SafetensorsHeader, tensor: TensorInfo): Uint8Array {
  const start = header.dataOffset + tensor.begin;
  const stop = header.dataOffset + tensor.end;
  if (stop > file.length) {
    fail(`tensor ${show(tensor.name)} ends at byte ${stop} past the ${file.length}-byte buffer`, {
      tensor: tensor.name,
      reason: 'truncated',
    });
  }
  return file.subarray(start, stop);
}
