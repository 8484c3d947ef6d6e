import { describe, expect, it } from 'vitest';
import { SafetensorsFormatError } from '../errors/errors.js';
import {
  DTYPES,
  decodeToFloat32,
  dtypeByteSize,
  encodeFromFloat32,
  float16BitsToFloat32,
  float16BitsToFloat32Array,
  float32ArrayToFloat16Bits,
  float32ToFloat16Bits,
  isDtype,
} from './dtypes.js';

// Slow references written from the IEEE definitions with exact double arithmetic (every value
// involved is a dyadic rational that doubles hold exactly), deliberately unlike the bit tricks
// under test.

function refF16ToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 31;
  const m = h & 1023;
  if (e === 31) return m ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  if (e === 0) return sign * (m / 1024) * 2 ** -14;
  return sign * (1 + m / 1024) * 2 ** (e - 15);
}

function roundHalfEven(q: number): number {
  const f = Math.floor(q);
  const r = q - f;
  if (r > 0.5) return f + 1;
  if (r < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

function exponentOf(a: number): number {
  let e = Math.floor(Math.log2(a));
  while (2 ** e > a) e--;
  while (2 ** (e + 1) <= a) e++;
  return e;
}

/** Nearest float16 (ties to even) of a finite or infinite number, as bits; NaN -> undefined. */
function refNumberToF16(x: number): number | undefined {
  if (Number.isNaN(x)) return undefined;
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const a = Math.abs(x);
  if (a === 0) return sign;
  if (a === Number.POSITIVE_INFINITY) return sign | 0x7c00;
  const e = Math.max(exponentOf(a), -14);
  const step = 2 ** (e - 10);
  const v = roundHalfEven(a / step) * step;
  if (v >= 65536) return sign | 0x7c00;
  // Encode the exactly-representable v.
  if (v < 2 ** -14) return sign | (v / 2 ** -24);
  const ve = exponentOf(v);
  return sign | ((ve + 15) << 10) | ((v / 2 ** ve - 1) * 1024);
}

/** Nearest bfloat16 (ties to even) as bits; NaN -> undefined. */
function refNumberToBf16(x: number): number | undefined {
  if (Number.isNaN(x)) return undefined;
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const a = Math.abs(x);
  if (a === 0) return sign;
  if (a === Number.POSITIVE_INFINITY) return sign | 0x7f80;
  const e = Math.max(exponentOf(a), -126);
  const step = 2 ** (e - 7);
  const v = roundHalfEven(a / step) * step;
  if (v >= 2 ** 128) return sign | 0x7f80;
  const f = new Float32Array([v]);
  return sign | (new Uint32Array(f.buffer)[0] >>> 16);
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
function bitsToF32(b: number): number {
  u32[0] = b;
  return f32[0];
}

/** Deterministic float32 bit patterns: all f16 values, their midpoints ±1 ulp, and a strided sweep. */
function testPatterns(): Uint32Array {
  const out: number[] = [];
  for (let h = 0; h < 0x7c00; h++) {
    f32[0] = refF16ToNumber(h);
    const b = u32[0];
    out.push(b, b + 0x1000, b + 0x0fff, b + 0x1001, b + 0x2000, b - 1);
  }
  // Every 65519th pattern over the whole 32-bit space hits every exponent, sign and NaN payload.
  for (let b = 0; b < 2 ** 32; b += 65519) out.push(b);
  out.push(
    0x7f800000,
    0x7f800001,
    0x7fc00000,
    0x7fffffff,
    0x477fefff,
    0x477ff000,
    0x477ff001,
    0x33000000,
    0x33000001,
  );
  const n = out.length;
  const all = new Uint32Array(n * 2);
  for (let i = 0; i < n; i++) {
    all[i] = out[i] >>> 0;
    all[n + i] = (out[i] | 0x80000000) >>> 0;
  }
  return all;
}

describe('dtypes', () => {
  it('knows sizes and refuses prototype keys as dtypes', () => {
    expect(DTYPES.map(dtypeByteSize)).toEqual([8, 4, 2, 2, 8, 4, 2, 1, 1, 1]);
    expect(isDtype('BF16')).toBe(true);
    expect(isDtype('toString')).toBe(false);
    expect(isDtype('__proto__')).toBe(false);
    expect(isDtype('f32')).toBe(false);
  });

  it('float16 -> float32 is exact for all 65536 bit patterns (scalar and bulk)', () => {
    const all = new Uint16Array(65536).map((_, i) => i);
    const bulk = float16BitsToFloat32Array(all);
    const bulkBits = new Uint32Array(bulk.buffer);
    const bad: number[] = [];
    for (let h = 0; h < 65536; h++) {
      const ref = refF16ToNumber(h);
      const ok = Number.isNaN(ref)
        ? Number.isNaN(float16BitsToFloat32(h)) &&
          // Payload and sign preserved in the bulk path.
          bulkBits[h] === (((h & 0x8000) << 16) | 0x7f800000 | ((h & 0x3ff) << 13)) >>> 0
        : Object.is(float16BitsToFloat32(h), ref) && Object.is(bulk[h], ref);
      if (!ok) bad.push(h);
    }
    expect(bad).toEqual([]);
  });

  it('float16 -> float32 -> float16 is the identity on all non-NaN patterns, and NaN stays NaN', () => {
    const all = new Uint16Array(65536).map((_, i) => i);
    const back = float32ArrayToFloat16Bits(float16BitsToFloat32Array(all));
    const bad: number[] = [];
    for (let h = 0; h < 65536; h++) {
      const nan = (h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0;
      const ok = nan
        ? (back[h] & 0x7c00) === 0x7c00 && (back[h] & 0x3ff) !== 0 && (back[h] & 0x8000) === (h & 0x8000)
        : back[h] === h && float32ToFloat16Bits(float16BitsToFloat32(h)) === h;
      if (!ok) bad.push(h);
    }
    expect(bad).toEqual([]);
  });

  it('float32 -> float16 rounds to nearest even like the reference (ties, overflow, subnormals, NaN)', () => {
    const patterns = testPatterns();
    const values = new Float32Array(patterns.buffer);
    const bulk = float32ArrayToFloat16Bits(values);
    let mismatches = 0;
    for (let i = 0; i < patterns.length; i++) {
      const x = bitsToF32(patterns[i]);
      const ref = refNumberToF16(x);
      const scalar = float32ToFloat16Bits(x);
      if (ref === undefined) {
        const isNaN16 = (h: number) => (h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0;
        if (!isNaN16(scalar) || bulk[i] !== scalar) mismatches++;
      } else if (scalar !== ref || bulk[i] !== ref) {
        mismatches++;
        if (mismatches < 5) console.error(patterns[i].toString(16), x, ref, scalar, bulk[i]);
      }
    }
    expect(mismatches).toBe(0);
    expect(patterns.length).toBeGreaterThan(300_000);
  });

  it('float32 -> float16 edge values', () => {
    expect(float32ToFloat16Bits(65504)).toBe(0x7bff);
    expect(float32ToFloat16Bits(65519.99)).toBe(0x7bff);
    expect(float32ToFloat16Bits(65520)).toBe(0x7c00);
    expect(float32ToFloat16Bits(-Infinity)).toBe(0xfc00);
    expect(float32ToFloat16Bits(-0)).toBe(0x8000);
    expect(float32ToFloat16Bits(2 ** -24)).toBe(1);
    expect(float32ToFloat16Bits(2 ** -25)).toBe(0); // tie -> even (0)
    expect(float32ToFloat16Bits(3 * 2 ** -25)).toBe(2); // tie 1.5 -> 2
    expect(float32ToFloat16Bits(2 ** -14 - 2 ** -25)).toBe(0x400); // rounds up into the normals
    expect(float32ToFloat16Bits(1 + 2 ** -11)).toBe(0x3c00); // tie -> even
    expect(float32ToFloat16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02);
  });

  it('float32 -> bfloat16 rounds to nearest even like the reference', () => {
    const patterns = testPatterns();
    const values = new Float32Array(patterns.buffer);
    const bytes = encodeFromFloat32(values, 'BF16');
    const bf = new Uint16Array(bytes.buffer, bytes.byteOffset, values.length);
    let mismatches = 0;
    for (let i = 0; i < patterns.length; i++) {
      const ref = refNumberToBf16(values[i]);
      if (ref === undefined) {
        if (
          (bf[i] & 0x7f80) !== 0x7f80 ||
          (bf[i] & 0x7f) === 0 ||
          (bf[i] & 0x8000) !== ((patterns[i] >>> 16) & 0x8000)
        )
          mismatches++;
      } else if (bf[i] !== ref) mismatches++;
    }
    expect(mismatches).toBe(0);
    // Round trip through decode is exact for every bfloat16.
    const back = decodeToFloat32(bytes, 'BF16');
    for (let i = 0; i < 1000; i++) {
      if (!Number.isNaN(back[i])) expect(refNumberToBf16(back[i])).toBe(bf[i]);
    }
  });

  it('decodes every dtype, including from unaligned views', () => {
    const cases: [string, Uint8Array, number[]][] = [
      ['F64', new Uint8Array(new Float64Array([1.5, -2, 1e300]).buffer), [1.5, -2, Infinity]],
      ['F32', new Uint8Array(new Float32Array([1.5, -2, 3]).buffer), [1.5, -2, 3]],
      ['F16', new Uint8Array(new Uint16Array([0x3e00, 0xc000, 0x7c00]).buffer), [1.5, -2, Infinity]],
      ['BF16', new Uint8Array(new Uint16Array([0x3fc0, 0xc000, 0x4040]).buffer), [1.5, -2, 3]],
      ['I64', new Uint8Array(new BigInt64Array([1n, -2n, 3n]).buffer), [1, -2, 3]],
      ['I32', new Uint8Array(new Int32Array([1, -2, 3]).buffer), [1, -2, 3]],
      ['I16', new Uint8Array(new Int16Array([1, -2, 3]).buffer), [1, -2, 3]],
      ['I8', new Uint8Array(new Int8Array([1, -2, 3]).buffer), [1, -2, 3]],
      ['U8', new Uint8Array([1, 254, 3]), [1, 254, 3]],
      ['BOOL', new Uint8Array([1, 0, 7]), [1, 0, 1]],
    ];
    for (const [dtype, bytes, want] of cases) {
      if (!isDtype(dtype)) throw new Error(dtype);
      expect(Array.from(decodeToFloat32(bytes, dtype))).toEqual(want);
      const shifted = new Uint8Array(bytes.length + 1);
      shifted.set(bytes, 1);
      expect(Array.from(decodeToFloat32(shifted.subarray(1), dtype))).toEqual(want);
    }
    expect(() => decodeToFloat32(new Uint8Array(3), 'F16')).toThrow(SafetensorsFormatError);
    // Node Buffers: slice() would alias the unaligned memory, so the copy must not use it.
    const pool = Buffer.alloc(13);
    pool.set(new Uint8Array(new Float32Array([1.5, -2, 3]).buffer), 1);
    expect(Array.from(decodeToFloat32(pool.subarray(1), 'F32'))).toEqual([1.5, -2, 3]);
  });

  it('encodes F32 as a copy and F16 through the bulk path', () => {
    const v = new Float32Array([1, 0.1, -65520]);
    const b = encodeFromFloat32(v, 'F32');
    v[0] = 5;
    expect(Array.from(decodeToFloat32(b, 'F32'))).toEqual([1, Math.fround(0.1), -65520]);
    expect(Array.from(new Uint16Array(encodeFromFloat32(v, 'F16').buffer))).toEqual([0x4500, 0x2e66, 0xfc00]);
  });

  it('bulk f16 conversions are fast (reports M elements/s)', () => {
    const n = 10_000_000;
    const src = new Float32Array(n);
    for (let i = 0; i < n; i++) src[i] = Math.sin(i) * 100;
    float32ArrayToFloat16Bits(src.subarray(0, 1000)); // warm up
    let t = performance.now();
    const h = float32ArrayToFloat16Bits(src);
    const encMs = performance.now() - t;
    t = performance.now();
    float16BitsToFloat32Array(h);
    const decMs = performance.now() - t;
    console.info(
      `f32->f16 ${(n / encMs / 1000).toFixed(0)} M/s, f16->f32 ${(n / decMs / 1000).toFixed(0)} M/s (${n} elements)`,
    );
    // Generous floor so a slow CI box passes but an accidental per-element allocation does not.
    expect(n / encMs / 1000).toBeGreaterThan(20);
    expect(n / decMs / 1000).toBeGreaterThan(20);
    // Reused outputs give the same bits.
    const out = new Float32Array(n);
    expect(float16BitsToFloat32Array(h, out)).toBe(out);
    expect(() => float16BitsToFloat32Array(h, new Float32Array(3))).toThrow(SafetensorsFormatError);
  });
});
