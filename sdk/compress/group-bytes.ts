import { blockQuantByteSizes } from '../format/block-quant.js';
import type { QuantGroup } from '../format/manifest.js';

export type BitWidth = 8 | 4 | 3 | 2;

/** SPEC.md 3.1's default u-part block: no larger than the group needs. */
export function defaultUBlockSize(rank: number, vBlockSize: number): number {
  let p = 16;
  while (p < rank && p < vBlockSize) p *= 2;
  return Math.min(vBlockSize, p);
}

/** A group over `[r0, r1)` with the default block sizes. */
export function makeGroup(r0: number, r1: number, bits: BitWidth, vBlockSize: number): QuantGroup {
  return { ranks: [r0, r1], bits, vBlockSize, uBlockSize: defaultUBlockSize(r1 - r0, vBlockSize) };
}

/** Exact stored bytes of one group (F16 scales), padding included: the α numerator. */
export function groupBytes(shape: readonly [number, number], g: QuantGroup): number {
  const [out, inn] = shape;
  const r = g.ranks[1] - g.ranks[0];
  if (r <= 0) return 0;
  return (
    blockQuantByteSizes(r, inn, g.bits, g.vBlockSize).total +
    blockQuantByteSizes(out, r, g.bits, g.uBlockSize).total
  );
}

export function groupsBytes(shape: readonly [number, number], groups: readonly QuantGroup[]): number {
  let total = 0;
  for (const g of groups) total += groupBytes(shape, g);
  return total;
}

/** Turns a per-rank bit assignment (non-increasing, 0 = dropped) into contiguous groups. */
export function groupsFromBits(bits: readonly number[], vBlockSize: number): QuantGroup[] {
  const groups: QuantGroup[] = [];
  let start = 0;
  for (let i = 1; i <= bits.length; i++) {
    if (i === bits.length || bits[i] !== bits[start]) {
      const b = bits[start];
      if (b > 0) groups.push(makeGroup(start, i, b as BitWidth, vBlockSize));
      start = i;
    }
  }
  return groups;
}
