import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidInputError } from '../errors/errors.js';
import { orthonormalizeColumns } from './cholesky-qr.js';
import { denseSvd } from './dense-svd.js';
import { Gemm } from './gemm.js';
import { gaussianMatrix } from './random.js';
import { frobeniusNorm, lowRankResidual, randomizedSvd } from './randomized-svd.js';
import { fromFactors, orthonormalityError, randomOrthonormal, transpose } from './test-helpers.js';

let gemm: Gemm;
beforeAll(async () => {
  gemm = await Gemm.create({ threads: 2 });
});
afterAll(async () => {
  await gemm.close();
});

/** Decaying spectrum (σᵢ = e^(−i/25)) plus dense Gaussian noise: like a fine-tune delta. */
function testMatrix(m: number, n: number, seed: number): Float32Array {
  const r = Math.min(m, n);
  const sigma = Array.from({ length: r }, (_, i) => Math.exp(-i / 25));
  const a = fromFactors(randomOrthonormal(m, r, seed), sigma, randomOrthonormal(n, r, seed + 1), m, n);
  const noise = gaussianMatrix(m * n, seed + 2);
  const scale = 0.02 / Math.sqrt(Math.max(m, n));
  return Float32Array.from(a, (x, i) => x + scale * noise[i]);
}

const M = 300;
const N = 500;
const a = testMatrix(M, N, 11);
const exact = denseSvd(a, M, N);
/** Eckart–Young: the best rank-k error in Frobenius norm. */
const optimal = (k: number) => Math.sqrt(exact.s.slice(k).reduce((t, s) => t + s * s, 0));

describe('randomizedSvd', () => {
  it('is within 1% of the optimal rank-k error with 2 power iterations', async () => {
    const k = 40;
    const r = await randomizedSvd(gemm, a, M, N, k, { seed: 3 });
    expect(r.k).toBe(k);
    expect(r.u.length).toBe(M * k);
    expect(r.vt.length).toBe(k * N);
    const err = await lowRankResidual(gemm, a, M, N, r);
    const best = optimal(k);
    // Reported in the README: measured ratio err/best.
    expect(err / best).toBeLessThan(1.01);
    expect(err / best).toBeGreaterThan(0.999); // cannot beat Eckart–Young
    let worstRel = 0;
    for (let i = 0; i < k; i++) worstRel = Math.max(worstRel, Math.abs(r.s[i] - exact.s[i]) / exact.s[i]);
    expect(worstRel).toBeLessThan(5e-3);
    // Leading singular values are essentially exact.
    for (let i = 0; i < 10; i++) expect(Math.abs(r.s[i] - exact.s[i]) / exact.s[i]).toBeLessThan(1e-5);
    expect(orthonormalityError(r.u, M, k)).toBeLessThan(2e-5);
    expect(orthonormalityError(transpose(r.vt, k, N), N, k)).toBeLessThan(2e-5);
  });

  it('needs the power iterations on a slowly decaying spectrum', async () => {
    const k = 40;
    const r0 = await randomizedSvd(gemm, a, M, N, k, { seed: 3, powerIterations: 0 });
    const r2 = await randomizedSvd(gemm, a, M, N, k, { seed: 3, powerIterations: 2 });
    const e0 = await lowRankResidual(gemm, a, M, N, r0);
    const e2 = await lowRankResidual(gemm, a, M, N, r2);
    expect(e0).toBeGreaterThan(e2);
    expect(orthonormalityError(r0.u, M, k)).toBeLessThan(2e-5);
  });

  it('is reproducible for a seed and differs across seeds', async () => {
    const r1 = await randomizedSvd(gemm, a, M, N, 20, { seed: 5 });
    const r2 = await randomizedSvd(gemm, a, M, N, 20, { seed: 5 });
    const r3 = await randomizedSvd(gemm, a, M, N, 20, { seed: 6 });
    expect(r2.u).toEqual(r1.u);
    expect(r2.s).toEqual(r1.s);
    expect(r3.u).not.toEqual(r1.u);
  });

  for (const [m, n] of [
    [M, N],
    [N, M],
  ] as const) {
    it(`falls back to an exact SVD when rank + oversample ≥ min(m, n) (${m}×${n})`, async () => {
      const x = m === M ? a : Float32Array.from(transpose(a, M, N));
      const k = 290;
      const r = await randomizedSvd(gemm, x, m, n, k);
      expect(r.k).toBe(k);
      for (let i = 0; i < k; i++) {
        expect(Math.abs(r.s[i] - exact.s[i])).toBeLessThan(1e-5 * exact.s[0]);
      }
      const err = await lowRankResidual(gemm, x, m, n, r);
      expect(Math.abs(err - optimal(k))).toBeLessThan(1e-5 * frobeniusNorm(x));
      expect(orthonormalityError(r.u, m, k)).toBeLessThan(1e-4);
      expect(orthonormalityError(transpose(r.vt, k, n), n, k)).toBeLessThan(1e-4);
    });
  }

  it('clamps k to min(m, n) and validates input', async () => {
    const small = Float32Array.from({ length: 12 }, (_, i) => Math.sin(i + 1));
    const r = await randomizedSvd(gemm, small, 3, 4, 10);
    expect(r.k).toBe(3);
    const ex = denseSvd(small, 3, 4);
    for (let i = 0; i < 3; i++) expect(r.s[i]).toBeCloseTo(ex.s[i], 5);
    await expect(randomizedSvd(gemm, small, 3, 5, 2)).rejects.toBeInstanceOf(InvalidInputError);
    await expect(randomizedSvd(gemm, small, 3, 4, 0)).rejects.toBeInstanceOf(InvalidInputError);
  });
});

describe('orthonormalizeColumns', () => {
  it('orthonormalises an ill-conditioned tall matrix and keeps its span', async () => {
    const rows = 400;
    const cols = 60;
    // Columns scaled over 8 orders of magnitude: plain CholeskyQR in fp32 would fail.
    const sigma = Array.from({ length: cols }, (_, i) => 10 ** (-i / 7.5));
    const y = Float32Array.from(
      fromFactors(randomOrthonormal(rows, cols, 1), sigma, randomOrthonormal(cols, cols, 2), rows, cols),
    );
    const q = await orthonormalizeColumns(gemm, y, rows, cols, 2);
    expect(orthonormalityError(q, rows, cols)).toBeLessThan(1e-5);
    // Span: ‖Y − Q·QᵀY‖ small relative to ‖Y‖.
    const qty = await gemm.matmul(q, [rows, cols], y, [rows, cols], { transA: true });
    const back = await gemm.matmul(q, [rows, cols], qty, [cols, cols]);
    let e = 0;
    for (let i = 0; i < y.length; i++) e += (y[i] - back[i]) ** 2;
    expect(Math.sqrt(e) / frobeniusNorm(y)).toBeLessThan(1e-5);
  });
});
