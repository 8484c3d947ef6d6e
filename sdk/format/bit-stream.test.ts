import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../util/seeded-random.js';
import { packCodes, packedByteLength, readCode, unpackCodes } from './bit-stream.js';

/** Reference: the stream spelled out bit by bit, exactly as SPEC.md 3.1 words it. */
function referencePack(codes: number[], bits: number): Uint8Array {
  const out = new Uint8Array(packedByteLength(codes.length, bits));
  codes.forEach((c, t) => {
    for (let b = 0; b < bits; b++) {
      const p = t * bits + b;
      if ((c >> b) & 1) out[p >> 3] |= 1 << (p & 7);
    }
  });
  return out;
}

describe('bit stream packing (SPEC 3.1)', () => {
  const rng = new SeededRandom(7);
  for (const bits of [2, 3, 4, 8]) {
    for (const count of [1, 2, 3, 7, 8, 9, 15, 16, 17, 63, 64, 65, 333]) {
      it(`${bits}-bit × ${count} codes matches the bit-by-bit reference and round-trips`, () => {
        const codes = Array.from({ length: count }, () => Math.floor(rng.next() * (1 << bits)));
        const out = new Uint8Array(packedByteLength(count, bits));
        packCodes(Uint8Array.from(codes), 0, count, bits, out, 0);
        expect(out).toEqual(referencePack(codes, bits));
        const back = new Uint8Array(count);
        unpackCodes(out, 0, count, bits, back);
        expect(Array.from(back)).toEqual(codes);
      });
    }
  }

  it('packs low-first: 4-bit codes 1,2 → byte 0x21 (MatMulNBits order)', () => {
    const out = new Uint8Array(1);
    packCodes(Uint8Array.of(1, 2), 0, 2, 4, out, 0);
    expect(out[0]).toBe(0x21);
  });

  it('packs 8 three-bit codes into 3 bytes', () => {
    const out = new Uint8Array(3);
    packCodes(Uint8Array.of(7, 0, 7, 0, 7, 0, 7, 0), 0, 8, 3, out, 0);
    // bits: 111 000 111 000 111 000 111 000 (low first)
    expect(Array.from(out)).toEqual([0b11000111, 0b01110001, 0b00011100]);
    expect(readCode(out, 0, 6, 3)).toBe(7);
    expect(readCode(out, 0, 5, 3)).toBe(0);
  });

  it('honours a byte offset without touching neighbours', () => {
    const out = new Uint8Array(6).fill(0);
    out[0] = 0xaa;
    packCodes(Uint8Array.of(3, 3, 3, 3), 0, 4, 2, out, 2);
    expect(Array.from(out)).toEqual([0xaa, 0, 0xff, 0, 0, 0]);
  });
});
