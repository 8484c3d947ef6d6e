/**
 * Dense matrix products through onnxruntime-node's CPU `Gemm` (MLAS).
 *
 * Why ORT: MLAS reaches ~115 GFLOP/s fp32 / ~59 GFLOP/s fp64 on a 2-core AVX2 box, two orders of
 * magnitude above a TypeScript triple loop, and onnxruntime-node is already a dependency (the
 * SDK runs compressed models with it). Each product is a one-node ONNX graph with symbolic dims,
 * so one session per (dtype, transA, transB) serves every shape.
 */
import os from 'node:os';
import ort from 'onnxruntime-node';
import { InvalidInputError } from '../errors/errors.js';
import { encodeModel, node, type OnnxElementType, tensorValueInfo } from '../onnx/model-builder.js';

export interface GemmOptions {
  /** Stored A is [K, M]; the product uses Aᵀ. */
  transA?: boolean;
  /** Stored B is [N, K]; the product uses Bᵀ. */
  transB?: boolean;
}

type Dtype = 'float32' | 'float64';

/** Builds the one-node graph `Y = op(A) · op(B)` with stored shapes as symbolic dims. */
export function gemmModel(dtype: Dtype, transA: boolean, transB: boolean): Uint8Array {
  const t: OnnxElementType = dtype;
  return encodeModel({
    graph: {
      name: 'deltahub_gemm',
      inputs: [
        tensorValueInfo('A', t, transA ? ['K', 'M'] : ['M', 'K']),
        tensorValueInfo('B', t, transB ? ['N', 'K'] : ['K', 'N']),
      ],
      outputs: [tensorValueInfo('Y', t, ['M', 'N'])],
      nodes: [node('Gemm', ['A', 'B'], ['Y'], { transA: transA ? 1 : 0, transB: transB ? 1 : 0 })],
    },
    opsetImports: [{ domain: '', version: 17 }],
  });
}

/**
 * Row-major matrix multiply `C = op(A) · op(B)` on onnxruntime's CPU GEMM.
 *
 * Shapes are the *stored* shapes (before transposition). Results are new row-major arrays.
 * Memory: the CPU arena and memory-pattern planning are off, so ORT frees its output buffer
 * after each run; the only long-lived allocation is the returned array.
 *
 * @example
 * ```ts
 * const gemm = await Gemm.create();
 * // (2×3)ᵀ · (2×4) → 3×4
 * const c = await gemm.matmul(a, [2, 3], b, [2, 4], { transA: true });
 * await gemm.close();
 * ```
 */
export class Gemm {
  readonly threads: number;
  private readonly sessions = new Map<string, Promise<ort.InferenceSession>>();
  private closed = false;

  private constructor(threads: number) {
    this.threads = threads;
  }

  /** `threads` defaults to `os.availableParallelism()`. */
  static async create(options?: { threads?: number }): Promise<Gemm> {
    const threads = options?.threads ?? os.availableParallelism();
    if (!Number.isInteger(threads) || threads < 1) {
      throw new InvalidInputError('Gemm threads must be a positive integer', { threads });
    }
    const gemm = new Gemm(threads);
    // Warm the most common session so that the first product does not pay session creation.
    await gemm.session('float32', false, false);
    return gemm;
  }

  /** fp32 product; see the class docs for shape conventions. */
  matmul(
    a: Float32Array,
    aShape: [number, number],
    b: Float32Array,
    bShape: [number, number],
    options?: GemmOptions,
  ): Promise<Float32Array> {
    return this.run('float32', a, aShape, b, bShape, options) as Promise<Float32Array>;
  }

  /** fp64 product; see the class docs for shape conventions. */
  matmul64(
    a: Float64Array,
    aShape: [number, number],
    b: Float64Array,
    bShape: [number, number],
    options?: GemmOptions,
  ): Promise<Float64Array> {
    return this.run('float64', a, aShape, b, bShape, options) as Promise<Float64Array>;
  }

  /** Releases every cached session. The instance is unusable afterwards. */
  async close(): Promise<void> {
    this.closed = true;
    const sessions = [...this.sessions.values()];
    this.sessions.clear();
    for (const s of sessions) await (await s).release();
  }

  private session(dtype: Dtype, transA: boolean, transB: boolean): Promise<ort.InferenceSession> {
    const key = `${dtype}:${transA ? 1 : 0}${transB ? 1 : 0}`;
    let s = this.sessions.get(key);
    if (s === undefined) {
      s = ort.InferenceSession.create(gemmModel(dtype, transA, transB), {
        executionProviders: ['cpu'],
        intraOpNumThreads: this.threads,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: 'all',
        // Without the arena ORT returns the (possibly 100+ MB) output buffer to the OS after
        // each run instead of keeping its high-water mark for the process lifetime.
        enableCpuMemArena: false,
        enableMemPattern: false,
        // Spinning pool threads would keep burning a core after each product; on 2 cores that
        // halves the speed of the TypeScript work (Cholesky, eigen) that runs between products.
        extra: { session: { intra_op: { allow_spinning: '0' } } },
      });
      this.sessions.set(key, s);
    }
    return s;
  }

  private async run(
    dtype: Dtype,
    a: Float32Array | Float64Array,
    aShape: [number, number],
    b: Float32Array | Float64Array,
    bShape: [number, number],
    options?: GemmOptions,
  ): Promise<Float32Array | Float64Array> {
    if (this.closed) throw new InvalidInputError('Gemm is closed');
    const transA = options?.transA ?? false;
    const transB = options?.transB ?? false;
    checkShape('a', a, aShape);
    checkShape('b', b, bShape);
    const [m, k] = transA ? [aShape[1], aShape[0]] : aShape;
    const [k2, n] = transB ? [bShape[1], bShape[0]] : bShape;
    if (k !== k2) {
      throw new InvalidInputError('Gemm inner dimensions differ', { aShape, bShape, transA, transB });
    }
    const Out = dtype === 'float32' ? Float32Array : Float64Array;
    // ORT rejects some zero-sized GEMMs; the answer is known anyway.
    if (m === 0 || n === 0) return new Out(m * n);
    if (k === 0) return new Out(m * n);
    const session = await this.session(dtype, transA, transB);
    const feeds = {
      A: new ort.Tensor(dtype, a, aShape),
      B: new ort.Tensor(dtype, b, bShape),
    };
    const result = await session.run(feeds);
    const y = result.Y;
    const data = y.data as Float32Array | Float64Array;
    y.dispose();
    return data;
  }
}

function checkShape(which: string, data: Float32Array | Float64Array, shape: [number, number]): void {
  if (
    !Array.isArray(shape) ||
    shape.length !== 2 ||
    !Number.isInteger(shape[0]) ||
    !Number.isInteger(shape[1]) ||
    shape[0] < 0 ||
    shape[1] < 0
  ) {
    throw new InvalidInputError(`Gemm: ${which}Shape must be two non-negative integers`, { shape });
  }
  if (data.length !== shape[0] * shape[1]) {
    throw new InvalidInputError(
      `Gemm: ${which} has ${data.length} elements, shape needs ${shape[0] * shape[1]}`,
      {
        shape,
        length: data.length,
      },
    );
  }
}
