import type { QuantGroup } from '../format/manifest.js';
import { groupsBytes, makeGroup } from './group-bytes.js';

/**
 * Delta-CoMe's fixed split (paper, Llama-2-7B, 4096-wide): 2 singular vectors at 8 bits, 32 at 3
 * bits, then 2-bit vectors up to the budget (968 for attention, ~1428 for MLP at α = 1/16), the
 * tail dropped. The 8- and 3-bit counts scale with the matrix's full rank; the 2-bit group is the
 * largest that keeps the matrix's real bytes (scales, zeros and padding included) within
 * `ratio · 2·out·in`, so α is honest rather than "1/16 on codes alone".
 *
 * @example
 * ```ts
 * paperScheme([4096, 4096], { ratio: 1 / 16, vBlockSize: 64, maxRank: 1100 });
 * // → groups [0,2)@8, [2,34)@3, [34, ~900)@2
 * ```
 */
export function paperScheme(
  shape: readonly [number, number],
  options: { ratio: number; vBlockSize: number; maxRank: number },
): QuantGroup[] {
  const [out, inn] = shape;
  const full = Math.min(out, inn, options.maxRank);
  const budget = options.ratio * 2 * out * inn;
  const n8 = Math.min(full, Math.max(1, Math.round((2 * Math.min(out, inn)) / 4096)));
  const n3 = Math.min(full - n8, Math.max(1, Math.round((32 * Math.min(out, inn)) / 4096)));
  const fixed: QuantGroup[] = [];
  if (n8 > 0) fixed.push(makeGroup(0, n8, 8, options.vBlockSize));
  if (n3 > 0) fixed.push(makeGroup(n8, n8 + n3, 3, options.vBlockSize));
  // The fixed groups alone may not fit a tiny budget: drop the 3-bit, then the 8-bit group.
  while (fixed.length > 0 && groupsBytes(shape, fixed) > budget) fixed.pop();
  const start = fixed.length > 0 ? fixed[fixed.length - 1].ranks[1] : 0;
  // Largest 2-bit count that fits (bytes grow monotonically with the count).
  let lo = 0;
  let hi = full - start;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    const trial = [...fixed, makeGroup(start, start + mid, 2, options.vBlockSize)];
    if (groupsBytes(shape, trial) <= budget) lo = mid;
    else hi = mid - 1;
  }
  return lo > 0 ? [...fixed, makeGroup(start, start + lo, 2, options.vBlockSize)] : fixed;
}
