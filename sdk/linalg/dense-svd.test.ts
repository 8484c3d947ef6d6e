import { describe, expect, it } from 'vitest';
import { denseSvd } from './dense-svd.js';
import {
  fromFactors,
  orthonormalityError,
  randomArray,
  randomOrthonormal,
  transpose,
} from './test-helpers.js';

function reconstructionError(a: Float64Array, m: number, n: number, r: ReturnType<typeof denseSvd>): number {
  const rec = fromFactors(r.u, r.s, transpose(r.vt, r.k, n), m, n);
  let e = 0;
  let nrm = 0;
  for (let i = 0; i < a.length; i++) {
    e += (a[i] - rec[i]) ** 2;
    nrm += a[i] ** 2;
  }
  return Math.sqrt(e / nrm);
}

describe('denseSvd', () => {
  it('diagonal example', () => {
    const r = denseSvd(new Float64Array([3, 0, 0, 4]), 2, 2);
    expect(Array.from(r.s)).toEqual([4, 3]);
  });

  for (const [m, n] of [
    [40, 25],
    [25, 40],
    [1, 7],
    [7, 1],
    [30, 30],
  ] as const) {
    it(`reconstructs a random ${m}×${n} with orthonormal factors`, () => {
      const a = randomArray(m * n, m * 100 + n);
      const r = denseSvd(a, m, n);
      expect(r.k).toBe(Math.min(m, n));
      expect(reconstructionError(a, m, n, r)).toBeLessThan(1e-14);
      expect(orthonormalityError(r.u, m, r.k)).toBeLessThan(1e-13);
      expect(orthonormalityError(transpose(r.vt, r.k, n), n, r.k)).toBeLessThan(1e-13);
      for (let j = 1; j < r.k; j++) expect(r.s[j]).toBeLessThanOrEqual(r.s[j - 1]);
    });
  }

  it('recovers prescribed singular values to high relative accuracy', () => {
    const m = 50;
    const n = 30;
    const sigma = Array.from({ length: n }, (_, i) => 10 ** (-i / 5));
    const a = fromFactors(randomOrthonormal(m, n, 1), sigma, randomOrthonormal(n, n, 2), m, n);
    const r = denseSvd(a, m, n);
    for (let i = 0; i < n; i++) expect(Math.abs(r.s[i] - sigma[i]) / sigma[i]).toBeLessThan(1e-9);
  });
});
