/**
 * Seeded standard-normal generator. Randomized SVD must be reproducible (same seed, same delta
 * file), so `Math.random` is not an option; sfc32 is small, fast in 32-bit integer arithmetic
 * on V8, and passes PractRand far beyond the few hundred million draws we need.
 */

/** Returns a function producing uniform numbers in (0, 1) from a 32-bit seed. */
export function seededUniform(seed: number): () => number {
  // splitmix32 expands the seed into sfc32's four words so that nearby seeds decorrelate.
  let s = seed >>> 0;
  const split = (): number => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = split();
  let b = split();
  let c = split();
  let d = split();
  return () => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    // +0.5 keeps the result strictly inside (0, 1): Box–Muller takes log(u).
    return ((t >>> 0) + 0.5) / 4294967296;
  };
}

/**
 * Fills a new Float32Array with i.i.d. N(0, 1) samples (Box–Muller, both outputs used).
 *
 * @example
 * ```ts
 * const omega = gaussianMatrix(1024 * 64, 42); // a 1024×64 test matrix
 * ```
 */
export function gaussianMatrix(length: number, seed: number): Float32Array {
  const u = seededUniform(seed);
  const out = new Float32Array(length);
  for (let i = 0; i < length; i += 2) {
    const r = Math.sqrt(-2 * Math.log(u()));
    const t = 2 * Math.PI * u();
    out[i] = r * Math.cos(t);
    if (i + 1 < length) out[i + 1] = r * Math.sin(t);
  }
  return out;
}
