import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../util/seeded-random.js';
import { readCode } from './bit-stream.js';
import { blockQuantByteSizes, dequantizeBlockMatrix, quantizeBlockMatrix, rint } from './block-quant.js';
import { blockQuantFromTensors } from './block-quant-tensors.js';

describe('rint', () => {
  it('rounds half to even like CUDA rintf', () => {
    expect([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4, -2.6].map(rint)).toEqual([0, 2, 2, -0, -2, -2, 2, -3]);
  });
});

describe('block quantization (SPEC 3.1)', () => {
  const rng = new SeededRandom(3);
  const shapes: [number, number][] = [
    [1, 1],
    [3, 17],
    [5, 64],
    [4, 65],
    [2, 100],
    [7, 129],
  ];
  for (const bits of [2, 3, 4, 8]) {
    for (const blockSize of [16, 64]) {
      for (const [n, k] of shapes) {
        it(`${bits}-bit, block ${blockSize}, [${n}, ${k}]: layout sizes, bounded error, zero padding`, () => {
          const x = rng.gaussianArray(n * k, 0.1);
          const q = quantizeBlockMatrix(x, n, k, bits, blockSize);
          const sizes = blockQuantByteSizes(n, k, bits, blockSize, q.scaleDtype === 'F16' ? 2 : 4);
          expect(q.qweight.length).toBe(sizes.qweight);
          expect(q.zeros.length).toBe(sizes.zeros);
          const nb = Math.ceil(k / blockSize);
          const y = dequantizeBlockMatrix(q);
          for (let row = 0; row < n; row++) {
            for (let c = 0; c < k; c++) {
              const s = q.scales[row * nb + Math.floor(c / blockSize)];
              // Half a step, plus the slack of the scale's own f16 rounding over the block's range.
              const bound = s * 0.5 + s * ((1 << bits) - 1) * 2 ** -10 + 1e-12;
              expect(Math.abs(y[row * k + c] - x[row * k + c])).toBeLessThanOrEqual(bound);
            }
            // Padding past K in the last block holds code 0.
            const blob = (blockSize * bits) / 8;
            const last = (row * nb + nb - 1) * blob;
            for (let t = k - (nb - 1) * blockSize; t < blockSize; t++)
              expect(readCode(q.qweight, last, t, bits)).toBe(0);
          }
        });
      }
    }
  }

  it('represents a constant block up to scale rounding, and zero exactly', () => {
    for (const v of [0, 0.25, -0.75, 3e-3]) {
      const q = quantizeBlockMatrix(new Float32Array(20).fill(v), 1, 20, 2, 16);
      for (const y of dequantizeBlockMatrix(q))
        expect(Math.abs(y - v)).toBeLessThanOrEqual(Math.abs(v) * 2 ** -10);
    }
  });

  it('keeps same-sign blocks representable (0 is inside every block range)', () => {
    const x = Float32Array.of(0.05, 0.06, 0.055, 0.052, -0.07, -0.061, -0.08, -0.065);
    const q = quantizeBlockMatrix(x, 2, 4, 8, 16);
    const y = dequantizeBlockMatrix(q);
    for (let i = 0; i < x.length; i++) expect(Math.abs(y[i] - x[i])).toBeLessThan(0.0003);
  });

  it('falls back to F32 scales when F16 cannot hold them', () => {
    const q = quantizeBlockMatrix(Float32Array.of(0, 1e-9, 2e-9, 3e-9), 1, 4, 2, 16);
    expect(q.scaleDtype).toBe('F32');
    expect(Math.max(...dequantizeBlockMatrix(q))).toBeCloseTo(3e-9, 15);
  });

  it('rebuilds from stored tensor bytes and refuses wrong sizes', () => {
    const x = rng.gaussianArray(3 * 40);
    const q = quantizeBlockMatrix(x, 3, 40, 3, 16);
    const scales = new Uint8Array(new Uint16Array(q.scales.length).buffer);
    // Re-encode scales as F32 bytes to exercise that path exactly.
    const f32 = new Uint8Array(Float32Array.from(q.scales).buffer);
    const back = blockQuantFromTensors(
      { n: 3, k: 40, bits: 3, blockSize: 16 },
      q.qweight,
      f32,
      'F32',
      q.zeros,
    );
    expect(dequantizeBlockMatrix(back)).toEqual(dequantizeBlockMatrix(q));
    expect(() =>
      blockQuantFromTensors({ n: 3, k: 40, bits: 3, blockSize: 16 }, q.qweight, scales, 'F32', q.zeros),
    ).toThrow(/sizes/);
    expect(() =>
      blockQuantFromTensors({ n: 3, k: 40, bits: 3, blockSize: 16 }, q.qweight, f32, 'BF16', q.zeros),
    ).toThrow(/F16 or F32/);
  });
});
