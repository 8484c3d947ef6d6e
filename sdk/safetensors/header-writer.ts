/**
 * Builds safetensors headers (pure). The writer validates with the same rules the reader enforces,
 * so anything deltahub writes, deltahub (and the reference reader) can read back.
 */
import { SafetensorsFormatError } from '../errors/errors.js';
import { type Dtype, dtypeByteSize, isDtype } from './dtypes.js';
import { MAX_HEADER_BYTES, MAX_NAME_BYTES, MAX_RANK, type TensorInfo } from './header.js';

/**
 * A tensor to lay out: name, dtype and shape (the data comes separately).
 *
 * @example
 * ```ts
 * const decl: TensorDecl = { name: 'lm_head.weight', dtype: 'BF16', shape: [32000, 4096] };
 * ```
 */
export interface TensorDecl {
  name: string;
  dtype: Dtype;
  shape: number[];
}

/**
 * What {@link buildSafetensorsHeader} returns.
 *
 * @example
 * ```ts
 * const { bytes, dataLength }: BuiltHeader = buildSafetensorsHeader(decls);
 * ```
 */
export interface BuiltHeader {
  /** The 8-byte length prefix followed by the JSON, space-padded so the data starts 8-aligned. */
  bytes: Uint8Array;
  /** The tensors in the given order, with their offsets relative to the data start. */
  tensors: TensorInfo[];
  /** Total data bytes that must follow the header. */
  dataLength: number;
}

function fail(message: string, details: Record<string, unknown>): never {
  throw new SafetensorsFormatError(`safetensors writer: ${message}`, details);
}

/**
 * Lays out tensors contiguously in the given order and serialises the header. Refuses what a
 * reader would refuse (unknown dtype, bad shape, duplicate or over-long name, header over 100 MB).
 *
 * @example
 * ```ts
 * const { bytes, tensors, dataLength } = buildSafetensorsHeader(
 *   [{ name: 'w', dtype: 'F16', shape: [2, 3] }],
 *   { format: 'pt' },
 * );
 * // write `bytes`, then `dataLength` (= 12) bytes of tensor data in order
 * ```
 */
export function buildSafetensorsHeader(
  entries: TensorDecl[],
  metadata?: Record<string, string>,
): BuiltHeader {
  const encoder = new TextEncoder();
  const seen = new Set<string>();
  const tensors: TensorInfo[] = [];
  // Built as text piece by piece rather than JSON.stringify(object): a tensor named "__proto__"
  // would otherwise vanish into the object's prototype.
  const parts: string[] = [];
  if (metadata !== undefined) {
    const meta: string[] = [];
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') fail(`metadata value for ${JSON.stringify(k)} is not a string`, { key: k });
      meta.push(`${JSON.stringify(k)}:${JSON.stringify(v)}`);
    }
    parts.push(`"__metadata__":{${meta.join(',')}}`);
  }
  let offset = 0;
  for (const { name, dtype, shape } of entries) {
    if (typeof name !== 'string' || name === '__metadata__') {
      fail(`invalid tensor name ${JSON.stringify(name)}`, { tensor: name });
    }
    if (encoder.encode(name).length > MAX_NAME_BYTES) {
      fail(`tensor name longer than ${MAX_NAME_BYTES} bytes`, { tensor: name.slice(0, 80) });
    }
    if (seen.has(name)) fail(`duplicate tensor name ${JSON.stringify(name)}`, { tensor: name });
    seen.add(name);
    if (!isDtype(dtype))
      fail(`tensor ${JSON.stringify(name)}: unknown dtype ${String(dtype)}`, { tensor: name });
    if (!Array.isArray(shape) || shape.length > MAX_RANK) {
      fail(`tensor ${JSON.stringify(name)}: shape must be an array of at most ${MAX_RANK} dims`, {
        tensor: name,
      });
    }
    let size = dtypeByteSize(dtype);
    for (const d of shape) {
      if (!Number.isSafeInteger(d) || d < 0) {
        fail(`tensor ${JSON.stringify(name)}: dimension ${String(d)} is not a safe non-negative integer`, {
          tensor: name,
        });
      }
      size *= d;
      if (!Number.isSafeInteger(size))
        fail(`tensor ${JSON.stringify(name)}: byte size overflows`, { tensor: name });
    }
    const begin = offset;
    const end = begin + size;
    if (!Number.isSafeInteger(end)) fail('total data size overflows', { tensor: name });
    offset = end;
    tensors.push({ name, dtype, shape: shape.slice(), begin, end });
    parts.push(
      `${JSON.stringify(name)}:{"dtype":"${dtype}","shape":[${shape.join(',')}],"data_offsets":[${begin},${end}]}`,
    );
  }
  const json = encoder.encode(`{${parts.join(',')}}`);
  // Pad so 8 + N is a multiple of 8: readers can then view F64/I64 data in place without copying.
  const n = Math.ceil((8 + json.length) / 8) * 8 - 8;
  if (n > MAX_HEADER_BYTES) {
    fail(`header of ${n} bytes exceeds the ${MAX_HEADER_BYTES}-byte limit`, { headerLength: n });
  }
  const bytes = new Uint8Array(8 + n);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(n), true);
  bytes.set(json, 8);
  bytes.fill(0x20, 8 + json.length);
  return { bytes, tensors, dataLength: offset };
}
