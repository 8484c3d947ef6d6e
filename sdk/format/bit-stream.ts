/**
 * The low-first bit stream of SPEC.md 3.1: code `t` occupies bits `[t·bits, (t+1)·bits)`, bit `p`
 * being bit `p mod 8` of byte `floor(p/8)`. For 2, 4 and 8 bits this is ONNX Runtime's
 * MatMulNBits packing; 3-bit codes use the same stream (8 codes in 3 bytes).
 */

/** Bytes needed for `count` codes of `bits` bits. */
export function packedByteLength(count: number, bits: number): number {
  return Math.ceil((count * bits) / 8);
}

/**
 * Writes `codes[0..count)` (each < 2^bits) into `out` starting at byte `offset`. The target bytes
 * must be zero: codes are OR-ed in so that neighbours sharing a byte do not clobber each other.
 *
 * @example
 * ```ts
 * const out = new Uint8Array(3);
 * packCodes(Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 0), 0, 8, 3, out, 0); // 8 three-bit codes → 3 bytes
 * ```
 */
export function packCodes(
  codes: Uint8Array,
  codesOffset: number,
  count: number,
  bits: number,
  out: Uint8Array,
  offset: number,
): void {
  if (bits === 8) {
    out.set(codes.subarray(codesOffset, codesOffset + count), offset);
    return;
  }
  for (let t = 0; t < count; t++) {
    const c = codes[codesOffset + t];
    const pos = t * bits;
    const byte = offset + (pos >>> 3);
    const shift = pos & 7;
    out[byte] |= (c << shift) & 0xff;
    if (shift + bits > 8) out[byte + 1] |= c >>> (8 - shift);
  }
}

/** Reads code `t` of the stream that starts at byte `offset`. */
export function readCode(packed: Uint8Array, offset: number, t: number, bits: number): number {
  if (bits === 8) return packed[offset + t];
  const pos = t * bits;
  const byte = offset + (pos >>> 3);
  const shift = pos & 7;
  let v = packed[byte] >>> shift;
  if (shift + bits > 8) v |= packed[byte + 1] << (8 - shift);
  return v & ((1 << bits) - 1);
}

/** Reads `count` codes starting at stream position 0 of byte `offset` into `out`. */
export function unpackCodes(
  packed: Uint8Array,
  offset: number,
  count: number,
  bits: number,
  out: Uint8Array,
  outOffset = 0,
): void {
  for (let t = 0; t < count; t++) out[outOffset + t] = readCode(packed, offset, t, bits);
}
