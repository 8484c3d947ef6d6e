import type { Spectrum } from '../format/manifest.js';

const MAX_POINTS = 256;

/**
 * A plot-sized summary of the computed singular values: every index up to 64, then log-spaced
 * indices, so the head (where the 8-bit vectors live) and the long tail are both visible.
 */
export function summarizeSpectrum(sigma: Float64Array, frobenius: number): Spectrum {
  const index: number[] = [];
  const k = sigma.length;
  if (k <= MAX_POINTS) {
    for (let i = 0; i < k; i++) index.push(i);
  } else {
    for (let i = 0; i < 64; i++) index.push(i);
    const steps = MAX_POINTS - 64;
    const ratio = Math.log(k - 1) - Math.log(64);
    for (let j = 1; j <= steps; j++) {
      const i = Math.round(Math.exp(Math.log(64) + (ratio * j) / steps));
      if (i > index[index.length - 1]) index.push(i);
    }
  }
  return {
    index,
    sigma: index.map((i) => Number(sigma[i].toPrecision(6))),
    frobenius: Number(frobenius.toPrecision(8)),
  };
}
