/**
 * Safetensors dtypes and float conversions (pure, no I/O).
 *
 * Byte order: safetensors stores little-endian data, and these helpers view it through typed
 * arrays, which use the host's byte order. Every platform deltahub runs on (x86-64, arm64) is
 * little-endian; a big-endian host is refused once, at first use, rather than silently garbling.
 */
import { SafetensorsFormatError } from '../errors/errors.js';

/**
 * The safetensors dtypes deltahub reads and writes.
 *
 * @example
 * ```ts
 * const d: Dtype = 'BF16';
 * ```
 */
export type Dtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

/**
 * Every supported dtype, widest float first.
 *
 * @example
 * ```ts
 * for (const d of DTYPES) console.log(d, dtypeByteSize(d));
 * ```
 */
export const DTYPES: readonly Dtype[] = Object.freeze([
  'F64',
  'F32',
  'F16',
  'BF16',
  'I64',
  'I32',
  'I16',
  'I8',
  'U8',
  'BOOL',
] as const);

const BYTE_SIZE: Readonly<Record<Dtype, number>> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};

/**
 * Bytes per element of a dtype.
 *
 * @example
 * ```ts
 * dtypeByteSize('BF16'); // 2
 * ```
 */
export function dtypeByteSize(d: Dtype): number {
  return BYTE_SIZE[d];
}

/**
 * Narrows an untrusted string (e.g. from a file header) to a {@link Dtype}.
 *
 * @example
 * ```ts
 * if (!isDtype(raw)) throw new Error(`unknown dtype ${raw}`);
 * ```
 */
export function isDtype(s: string): s is Dtype {
  // hasOwn, not `in`: "toString" and friends must not count as dtypes.
  return typeof s === 'string' && Object.hasOwn(BYTE_SIZE, s);
}

let endianChecked = false;
function assertLittleEndian(): void {
  if (endianChecked) return;
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
    throw new SafetensorsFormatError('safetensors: big-endian hosts are not supported', {
      reason: 'big_endian_host',
    });
  }
  endianChecked = true;
}

// Shared scratch for reinterpreting one float32's bits; module-level so scalar calls allocate nothing.
const scratchF32 = new Float32Array(1);
const scratchU32 = new Uint32Array(scratchF32.buffer);

/**
 * Rounds `x` to float32, then to the nearest float16 (ties to even) and returns its 16 bits.
 * Overflow gives ±Inf, NaN stays NaN (quiet, sign and top payload bits kept), tiny values become
 * float16 subnormals or ±0.
 *
 * @example
 * ```ts
 * float32ToFloat16Bits(1); // 0x3c00
 * float32ToFloat16Bits(65520); // 0x7c00 (Inf: halfway to the next binade rounds up)
 * ```
 */
export function float32ToFloat16Bits(x: number): number {
  scratchF32[0] = x;
  const b = scratchU32[0];
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  const mant = b & 0x7fffff;
  if (exp === 0xff) {
    // Force the quiet bit so a signalling NaN whose payload lives only in the low bits stays NaN.
    return mant === 0 ? sign | 0x7c00 : sign | 0x7e00 | (mant >>> 13);
  }
  const e = exp - 112; // rebias 127 -> 15
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    // Result is a float16 subnormal (or zero). Below half the smallest subnormal it rounds to 0.
    if (e < -10) return sign;
    const m = mant | 0x800000;
    const shift = 14 - e;
    let h = m >>> shift;
    const rem = m & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && (h & 1) === 1)) h++;
    return sign | h; // a carry into bit 10 is exactly the smallest normal, as it should be
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1) === 1)) h++; // carry may reach 0x7c00 = Inf: correct
  return sign | h;
}

/**
 * The float16 with bits `h` (low 16 bits used), as a number (exact: every float16 is a float32).
 *
 * @example
 * ```ts
 * float16BitsToFloat32(0x3555); // 0.333251953125
 * ```
 */
export function float16BitsToFloat32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 31) return mant === 0 ? sign * Number.POSITIVE_INFINITY : Number.NaN;
  return sign * (1024 + mant) * 2 ** (exp - 25);
}

// float16 -> float32 bit patterns for all 65536 inputs (256 KiB, fits in L2). Kept as u32 bits so
// NaN payloads survive: V8 may canonicalise a NaN that passes through a JS number.
let f16Table: Uint32Array | undefined;
function f16ToF32Table(): Uint32Array {
  if (f16Table) return f16Table;
  const t = new Uint32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = (h & 0x8000) << 16;
    const exp = (h >>> 10) & 0x1f;
    const mant = h & 0x3ff;
    if (exp === 31) {
      t[h] = (sign | 0x7f800000 | (mant << 13)) >>> 0;
    } else if (exp === 0) {
      // Subnormal: the value is exact in float32, and |x| < 2^-14 never carries NaN worries.
      scratchF32[0] = mant * 2 ** -24;
      t[h] = (sign | scratchU32[0]) >>> 0;
    } else {
      t[h] = (sign | ((exp + 112) << 23) | (mant << 13)) >>> 0;
    }
  }
  f16Table = t;
  return t;
}

/**
 * Bulk float16 -> float32 (a table lookup per element; NaN payloads preserved). Pass `out` to
 * reuse a buffer: on large arrays, first-touch page faults of a fresh output cost about as much as
 * the conversion itself.
 *
 * @example
 * ```ts
 * const f32 = float16BitsToFloat32Array(new Uint16Array([0x3c00, 0xc000])); // [1, -2]
 * ```
 */
export function float16BitsToFloat32Array(src: Uint16Array, out?: Float32Array): Float32Array {
  const table = f16ToF32Table();
  const result = outputFor(out, src.length, Float32Array);
  const bits = new Uint32Array(result.buffer, result.byteOffset, src.length);
  for (let i = 0; i < src.length; i++) bits[i] = table[src[i]];
  return result;
}

function outputFor<T extends Float32Array | Uint16Array>(
  out: T | undefined,
  length: number,
  ctor: new (n: number) => T,
): T {
  if (out === undefined) return new ctor(length);
  if (out.length !== length) {
    throw new SafetensorsFormatError(`safetensors: output has ${out.length} elements, expected ${length}`, {
      reason: 'bad_output_length',
      expected: length,
      actual: out.length,
    });
  }
  return out;
}

// Bit patterns used by the bulk encoder (see float32ArrayToFloat16Bits).
const F32_INF = 0x7f800000;
const F16_OVERFLOW = 0x47800000; // 65536.0: at or above this, every float rounds to Inf in float16
const F16_MIN_NORMAL = 0x38800000; // 2^-14

/**
 * Bulk float32 -> float16 bits, round to nearest even; same results as
 * {@link float32ToFloat16Bits} for every input, bit for bit. Pass `out` to reuse a buffer (it
 * must not overlap `src`).
 *
 * @example
 * ```ts
 * const h = float32ArrayToFloat16Bits(new Float32Array([1, 0.1])); // [0x3c00, 0x2e66]
 * ```
 */
export function float32ArrayToFloat16Bits(src: Float32Array, out?: Uint16Array): Uint16Array {
  // Integer-only on the hot path, after Fabian Giesen's float_to_half_fast3_rtne: normal results
  // round by adding 0xfff plus the lowest kept bit to the float32 bits, which carries into the
  // exponent exactly when rounding should.
  const bits = new Uint32Array(src.buffer, src.byteOffset, src.length);
  const result = outputFor(out, src.length, Uint16Array);
  const n = bits.length;
  for (let i = 0; i < n; i++) {
    const b = bits[i];
    const sign = (b >>> 16) & 0x8000;
    const a = b & 0x7fffffff;
    let h: number;
    // Normal results first, as one unsigned range test: trained weights are almost all normal.
    if ((a - F16_MIN_NORMAL) >>> 0 < F16_OVERFLOW - F16_MIN_NORMAL) {
      h = (a - 0x38000000 + 0xfff + ((a >>> 13) & 1)) >>> 13;
    } else if (a >= F16_OVERFLOW) {
      h = a > F32_INF ? 0x7e00 | ((a >>> 13) & 0x3ff) : 0x7c00;
    } else {
      // Subnormal/zero: the FPU's own round-to-even does the work. Adding 0.5 puts the float16
      // subnormal grid (step 2^-24) on float32's grid at [0.5, 1); x + 0.5 is exact in a double for
      // every x that can round up, so the one rounding (fround) is the correct one.
      scratchU32[0] = a;
      h = (Math.fround(scratchF32[0] + 0.5) - 0.5) * 16777216;
    }
    result[i] = sign | h;
  }
  return result;
}

function bf16BitsFromF32Bits(b: number): number {
  // NaN: truncating could clear every payload bit and make Inf, so set the quiet bit.
  if ((b & 0x7fffffff) > F32_INF) return (b >>> 16) | 0x40;
  return (b + 0x7fff + ((b >>> 16) & 1)) >>> 16;
}

/**
 * Copies when `bytes` is not aligned for `size`-byte elements (typed-array views require it).
 * `new Uint8Array(bytes)`, not `bytes.slice()`: on a Node Buffer (often at an odd offset in the
 * pool) `slice` returns a view of the same memory, still unaligned.
 */
function aligned(bytes: Uint8Array, size: number): Uint8Array {
  return bytes.byteOffset % size === 0 ? bytes : new Uint8Array(bytes);
}

function checkLength(bytes: Uint8Array, dtype: Dtype): number {
  const size = BYTE_SIZE[dtype];
  if (bytes.byteLength % size !== 0) {
    throw new SafetensorsFormatError(
      `safetensors: ${bytes.byteLength} bytes is not a whole number of ${dtype} elements`,
      { reason: 'byte_length_not_multiple', dtype, byteLength: bytes.byteLength },
    );
  }
  return bytes.byteLength / size;
}

/**
 * Decodes raw little-endian tensor bytes to float32. Aligned F32 input is returned as a view of the
 * same memory (no copy: 100M-element tensors); every other dtype allocates a new array. I64 and
 * I32 values beyond 2^24 lose precision, as any float32 would.
 *
 * @example
 * ```ts
 * const x = decodeToFloat32(await file.readBytes('lm_head.weight'), 'BF16');
 * ```
 */
export function decodeToFloat32(bytes: Uint8Array, dtype: Dtype): Float32Array {
  assertLittleEndian();
  if (!isDtype(dtype)) {
    throw new SafetensorsFormatError(`safetensors: unknown dtype ${String(dtype)}`, {
      reason: 'unknown_dtype',
      dtype,
    });
  }
  const n = checkLength(bytes, dtype);
  const src = aligned(bytes, BYTE_SIZE[dtype]);
  switch (dtype) {
    case 'F32':
      return new Float32Array(src.buffer, src.byteOffset, n);
    case 'F16':
      return float16BitsToFloat32Array(new Uint16Array(src.buffer, src.byteOffset, n));
    case 'BF16': {
      const h = new Uint16Array(src.buffer, src.byteOffset, n);
      const out = new Uint32Array(n);
      for (let i = 0; i < n; i++) out[i] = h[i] << 16;
      return new Float32Array(out.buffer);
    }
    case 'F64':
      return Float32Array.from(new Float64Array(src.buffer, src.byteOffset, n));
    case 'I64': {
      const v = new BigInt64Array(src.buffer, src.byteOffset, n);
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = Number(v[i]);
      return out;
    }
    case 'I32':
      return Float32Array.from(new Int32Array(src.buffer, src.byteOffset, n));
    case 'I16':
      return Float32Array.from(new Int16Array(src.buffer, src.byteOffset, n));
    case 'I8':
      return Float32Array.from(new Int8Array(src.buffer, src.byteOffset, n));
    case 'U8':
      return Float32Array.from(src);
    case 'BOOL': {
      // Any non-zero byte is true: numpy/torch write 0x01, but the format does not forbid others.
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = src[i] === 0 ? 0 : 1;
      return out;
    }
  }
}

/**
 * Encodes float32 values as little-endian tensor bytes in a float dtype (round to nearest even).
 * F32 always copies, so the result never aliases `values`.
 *
 * @example
 * ```ts
 * const bytes = encodeFromFloat32(new Float32Array([0.1, 2]), 'BF16'); // 4 bytes
 * ```
 */
export function encodeFromFloat32(values: Float32Array, dtype: 'F32' | 'F16' | 'BF16'): Uint8Array {
  assertLittleEndian();
  switch (dtype) {
    case 'F32':
      return new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength));
    case 'F16': {
      const h = float32ArrayToFloat16Bits(values);
      return new Uint8Array(h.buffer, h.byteOffset, h.byteLength);
    }
    case 'BF16': {
      const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
      const out = new Uint16Array(values.length);
      for (let i = 0; i < bits.length; i++) out[i] = bf16BitsFromF32Bits(bits[i]);
      return new Uint8Array(out.buffer);
    }
    default:
      throw new SafetensorsFormatError(`safetensors: cannot encode float32 as ${String(dtype)}`, {
        reason: 'unsupported_encode_dtype',
        dtype,
      });
  }
}
