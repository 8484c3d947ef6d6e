import { describe, expect, it } from 'vitest';
import { symmetricEigen } from './symmetric-eigen.js';
import { fromFactors, randomArray, randomOrthonormal } from './test-helpers.js';

function randomSymmetric(n: number, seed: number): Float64Array {
  const r = randomArray(n * n, seed);
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) a[i * n + j] = r[i * n + j] + r[j * n + i];
  return a;
}

/** max_j ‖A·v_j − λ_j·v_j‖ / ‖A‖_F and max |VᵀV − I|. */
function check(a: Float64Array, n: number, values: Float64Array, vectors: Float64Array) {
  let norm = 0;
  for (const x of a) norm += x * x;
  norm = Math.sqrt(norm) || 1;
  let resid = 0;
  for (let j = 0; j < n; j++) {
    let r2 = 0;
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += a[i * n + k] * vectors[k * n + j];
      r2 += (s - values[j] * vectors[i * n + j]) ** 2;
    }
    resid = Math.max(resid, Math.sqrt(r2) / norm);
  }
  let orth = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += vectors[k * n + i] * vectors[k * n + j];
      orth = Math.max(orth, Math.abs(s - (i === j ? 1 : 0)));
    }
  }
  return { resid, orth };
}

describe('symmetricEigen', () => {
  it('solves a 2×2 by hand', () => {
    const { values, vectors } = symmetricEigen(new Float64Array([2, 1, 1, 2]), 2);
    expect(values[0]).toBeCloseTo(3, 14);
    expect(values[1]).toBeCloseTo(1, 14);
    expect(Math.abs(vectors[0])).toBeCloseTo(Math.SQRT1_2, 14);
    expect(vectors[0] * vectors[2]).toBeGreaterThan(0); // column 0 ∝ (1, 1)
    expect(vectors[1] * vectors[3]).toBeLessThan(0); // column 1 ∝ (1, −1)
  });

  it('handles n = 0, 1 and diagonal input', () => {
    expect(symmetricEigen(new Float64Array(0), 0).values.length).toBe(0);
    expect(Array.from(symmetricEigen(new Float64Array([-3]), 1).values)).toEqual([-3]);
    const d = new Float64Array(9);
    d[0] = 1;
    d[4] = 5;
    d[8] = -2;
    const r = symmetricEigen(d, 3);
    expect(Array.from(r.values)).toEqual([5, 1, -2]);
    expect(check(d, 3, r.values, r.vectors).resid).toBeLessThan(1e-15);
  });

  for (const n of [3, 17, 64, 200]) {
    it(`A·V = V·Λ and VᵀV = I on a random symmetric ${n}×${n}`, () => {
      const a = randomSymmetric(n, n);
      const { values, vectors } = symmetricEigen(a, n);
      for (let j = 1; j < n; j++) expect(values[j]).toBeLessThanOrEqual(values[j - 1]);
      const { resid, orth } = check(a, n, values, vectors);
      expect(resid).toBeLessThan(1e-13);
      expect(orth).toBeLessThan(1e-13);
      let trace = 0;
      let sum = 0;
      for (let i = 0; i < n; i++) trace += a[i * n + i];
      for (const v of values) sum += v;
      expect(Math.abs(sum - trace)).toBeLessThan(1e-11 * n);
    });
  }

  it('recovers a known spectrum with repeated eigenvalues', () => {
    const n = 60;
    const q = randomOrthonormal(n, n, 7);
    const lambda = Array.from({ length: n }, (_, i) => (i < 20 ? 4 : i < 40 ? -1 : 1e-3 * i));
    const a = fromFactors(q, lambda, q, n, n);
    const { values, vectors } = symmetricEigen(a, n);
    const want = [...lambda].sort((x, y) => y - x);
    for (let j = 0; j < n; j++) expect(Math.abs(values[j] - want[j])).toBeLessThan(1e-13);
    const { resid, orth } = check(a, n, values, vectors);
    expect(resid).toBeLessThan(1e-13);
    expect(orth).toBeLessThan(1e-13);
  });
});
