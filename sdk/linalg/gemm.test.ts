import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidInputError } from '../errors/errors.js';
import { Gemm } from './gemm.js';
import { naiveMatmul, randomArray } from './test-helpers.js';

let gemm: Gemm;
beforeAll(async () => {
  gemm = await Gemm.create({ threads: 2 });
});
afterAll(async () => {
  await gemm.close();
});

const shapes: [number, number, number][] = [
  [1, 1, 1],
  [7, 13, 5],
  [33, 17, 65],
  [129, 3, 2],
  [2, 257, 31],
];

function stored(m: number, k: number, n: number, transA: boolean, transB: boolean) {
  const aShape: [number, number] = transA ? [k, m] : [m, k];
  const bShape: [number, number] = transB ? [n, k] : [k, n];
  return { aShape, bShape };
}

function maxRelErr(got: ArrayLike<number>, want: Float64Array): number {
  let scale = 0;
  for (const w of want) scale = Math.max(scale, Math.abs(w));
  let err = 0;
  for (let i = 0; i < want.length; i++) err = Math.max(err, Math.abs(got[i] - want[i]));
  return err / Math.max(scale, 1e-30);
}

describe('Gemm', () => {
  for (const transA of [false, true]) {
    for (const transB of [false, true]) {
      it(`matches a naive product (transA=${transA}, transB=${transB})`, async () => {
        let seed = 1;
        for (const [m, k, n] of shapes) {
          const { aShape, bShape } = stored(m, k, n, transA, transB);
          const a64 = randomArray(m * k, seed++);
          const b64 = randomArray(k * n, seed++);
          const want = naiveMatmul(a64, aShape, b64, bShape, transA, transB);
          const a32 = Float32Array.from(a64);
          const b32 = Float32Array.from(b64);
          const want32 = naiveMatmul(a32, aShape, b32, bShape, transA, transB);
          const c32 = await gemm.matmul(a32, aShape, b32, bShape, { transA, transB });
          expect(c32).toBeInstanceOf(Float32Array);
          expect(c32.length).toBe(m * n);
          expect(maxRelErr(c32, want32)).toBeLessThan(1e-5);
          const c64 = await gemm.matmul64(a64, aShape, b64, bShape, { transA, transB });
          expect(c64).toBeInstanceOf(Float64Array);
          expect(maxRelErr(c64, want)).toBeLessThan(1e-13);
        }
      });
    }
  }

  it('is not symmetric in its arguments (catches swapped operands)', async () => {
    const a = Float32Array.from([1, 2, 3, 4]);
    const b = Float32Array.from([0, 1, 1, 0]);
    expect(Array.from(await gemm.matmul(a, [2, 2], b, [2, 2]))).toEqual([2, 1, 4, 3]);
    expect(Array.from(await gemm.matmul(b, [2, 2], a, [2, 2]))).toEqual([3, 4, 1, 2]);
    expect(Array.from(await gemm.matmul(a, [2, 2], b, [2, 2], { transA: true }))).toEqual([3, 1, 4, 2]);
  });

  it('handles empty shapes', async () => {
    expect((await gemm.matmul(new Float32Array(0), [0, 3], new Float32Array(6), [3, 2])).length).toBe(0);
    expect(Array.from(await gemm.matmul(new Float32Array(0), [2, 0], new Float32Array(0), [0, 2]))).toEqual([
      0, 0, 0, 0,
    ]);
  });

  it('validates shapes', async () => {
    const a = new Float32Array(6);
    await expect(gemm.matmul(a, [2, 3], a, [2, 3])).rejects.toBeInstanceOf(InvalidInputError);
    await expect(gemm.matmul(a, [2, 2], a, [2, 3])).rejects.toBeInstanceOf(InvalidInputError);
    await expect(gemm.matmul(a, [2, 3], a, [3, 2], { transB: true })).rejects.toBeInstanceOf(
      InvalidInputError,
    );
    await expect(gemm.matmul(a, [2, 3], a, [2, 3], { transB: true })).resolves.toHaveLength(4);
  });
});
