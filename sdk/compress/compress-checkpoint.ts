import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidInputError } from '../errors/errors.js';
import { rawTensorName } from '../format/layout.js';
import {
  DELTA_FORMAT_TAG,
  type DeltaManifest,
  type DeltaMethod,
  FORMAT_VERSION,
  type MatrixEntry,
  type QuantGroup,
  serializeDeltaManifest,
} from '../format/manifest.js';
import { Gemm } from '../linalg/gemm.js';
import { randomizedSvd } from '../linalg/randomized-svd.js';
import { Checkpoint } from '../safetensors/checkpoint.js';
import { hashCheckpoint } from '../safetensors/digest.js';
import { type Dtype, decodeToFloat32 } from '../safetensors/dtypes.js';
import { writeSafetensorsFile } from '../safetensors/file-writer.js';
import { VERSION } from '../version.js';
import { type SolverMatrix, solveBitAllocation } from './budget-solver.js';
import {
  type EncodedMatrix,
  encodeBitDelta,
  encodeDeltaCoMe,
  encodeLowRank,
  type SvdFactors,
} from './matrix-encoders.js';
import { type MatrixErrorParts, measureMatrixError, ratioOrNull } from './matrix-error.js';
import { compileMatrixPatterns, DEFAULT_MATRIX_PATTERNS, isCompressibleMatrix } from './matrix-selection.js';
import { paperScheme } from './paper-scheme.js';
import { measureQuantErrorFactors } from './quant-error-model.js';
import { summarizeSpectrum } from './spectrum-summary.js';
import { type SpillHandle, SpillStore } from './spill-store.js';

export type CompressPhase = 'hash-base' | 'hash-finetuned' | 'analyze' | 'encode' | 'write';

export interface CompressProgress {
  phase: CompressPhase;
  done: number;
  total: number;
  item?: string;
}

export interface CompressOptions {
  baseDir: string;
  finetunedDir: string;
  outPath: string;
  /** Default `delta-come`. */
  method?: DeltaMethod;
  /**
   * α budget. Delta-CoMe: absent → the paper's fixed 8/3/2 split at 1/16; given → the budget
   * solver. Low-Rank: the budget (default 1/16). BitDelta is always 1/16 (1 bit of 16).
   */
  ratio?: number;
  /** Block size of v parts (u parts: SPEC default). Default 64. */
  blockSize?: number;
  /** Regular expressions (as strings) naming the linear matrices to compress. */
  matrixPatterns?: readonly string[];
  svd?: { oversample?: number; powerIterations?: number; seed?: number };
  /** ONNX Runtime threads for the matrix products. Default: all cores. */
  threads?: number;
  /** Where scratch files go. Default: the OS temp dir. */
  tmpDir?: string;
  onProgress?: (p: CompressProgress) => void;
}

export interface CompressResult {
  outPath: string;
  bytes: number;
  sha256: string;
  manifest: DeltaManifest;
}

/** Side files carried in the manifest when the fine-tune's differ from the base's. */
const SIDE_FILES = [
  'config.json',
  'generation_config.json',
  'tokenizer.json',
  'tokenizer_config.json',
  'special_tokens_map.json',
  'added_tokens.json',
  'vocab.json',
  'merges.txt',
];
const MAX_SIDE_FILE_BYTES = 32_000_000;
const FLOAT_DTYPES: readonly Dtype[] = ['F32', 'F16', 'BF16'];

interface MatrixPlan {
  name: string;
  shape: [number, number];
  factors?: { u: SpillHandle; s: SpillHandle; vt: SpillHandle; k: number };
  sigma?: Float64Array;
  frobenius: number;
  groups?: QuantGroup[];
  rank?: number;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

async function readSideFile(dir: string, name: string): Promise<string | null> {
  try {
    const s = await stat(join(dir, name));
    if (!s.isFile() || s.size > MAX_SIDE_FILE_BYTES) return null;
    return await readFile(join(dir, name), 'utf8');
  } catch {
    return null;
  }
}

async function changedSideFiles(baseDir: string, ftDir: string): Promise<Record<string, string>> {
  const present = new Set(await readdir(ftDir));
  const files: Record<string, string> = {};
  for (const name of SIDE_FILES) {
    if (!present.has(name)) continue;
    const ft = await readSideFile(ftDir, name);
    if (ft !== null && ft !== (await readSideFile(baseDir, name))) files[name] = ft;
  }
  return files;
}

async function architectureOf(dir: string): Promise<string | null> {
  const text = await readSideFile(dir, 'config.json');
  if (text === null) return null;
  try {
    const arch = (JSON.parse(text) as { architectures?: unknown }).architectures;
    return Array.isArray(arch) && typeof arch[0] === 'string' ? arch[0].slice(0, 200) : null;
  } catch {
    return null;
  }
}

const DECODE_CHUNK = 1 << 20;

/** `W_ft − W_base` in float32, decoding the base in chunks so only one fp32 matrix is alive. */
async function loadDelta(base: Checkpoint, ft: Checkpoint, name: string): Promise<Float32Array> {
  const w = await ft.readFloat32(name);
  const dtype = base.info(name).dtype;
  const bytes = await base.readBytes(name);
  const size = bytes.length / w.length;
  for (let start = 0; start < w.length; start += DECODE_CHUNK) {
    const end = Math.min(w.length, start + DECODE_CHUNK);
    const b = decodeToFloat32(bytes.subarray(start * size, end * size), dtype);
    for (let i = start; i < end; i++) w[i] -= b[i - start];
  }
  return w;
}

function frobeniusNorm(a: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * a[i];
  return Math.sqrt(s);
}

/** Singular vectors the allocation may use, so the SVD computes no more than needed. */
function analysisRank(
  method: DeltaMethod,
  shape: [number, number],
  ratio: number | null,
  blockSize: number,
): number {
  const [m, n] = shape;
  const full = Math.min(m, n);
  if (method === 'low-rank') return Math.min(full, Math.floor(((ratio ?? 1 / 16) * m * n) / (m + n)));
  if (ratio === null) {
    const groups = paperScheme(shape, { ratio: 1 / 16, vBlockSize: blockSize, maxRank: full });
    return groups.length > 0 ? groups[groups.length - 1].ranks[1] : 0;
  }
  // The proportional all-2-bit rank bounds what the solver can use unless it moves budget between
  // matrices; measured allocations stay well below it (data-free 2-bit keeps only ~60% of a
  // vector's energy, so 3 and 4 bits win), and every extra column costs SVD time and memory.
  return Math.min(full, Math.ceil((8 * ratio * m * n) / (m + n)) + 16);
}

/**
 * Compresses `finetuned − base` into a delta file (SPEC.md). Streams tensor by tensor: peak memory
 * is about two fp32 copies of the largest matrix plus its factors; intermediate factors and encoded
 * tensors go to a scratch file, and the output appears atomically only when complete.
 *
 * @example
 * ```ts
 * const { manifest } = await compressCheckpoint({
 *   baseDir: 'models/base', finetunedDir: 'models/math', outPath: 'math.delta.safetensors',
 *   method: 'delta-come', ratio: 1 / 16,
 * });
 * console.log(manifest.totals.alpha, manifest.totals.relFroError);
 * ```
 */
export async function compressCheckpoint(options: CompressOptions): Promise<CompressResult> {
  const method = options.method ?? 'delta-come';
  const ratio = options.ratio ?? null;
  const blockSize = options.blockSize ?? 64;
  if (![16, 32, 64, 128, 256, 512, 1024].includes(blockSize)) {
    throw new InvalidInputError(`block size ${blockSize} must be a power of two from 16 to 1024`);
  }
  const svd = {
    oversample: options.svd?.oversample ?? 16,
    powerIterations: options.svd?.powerIterations ?? 2,
    seed: options.svd?.seed ?? 1,
  };
  const patterns = compileMatrixPatterns(options.matrixPatterns ?? DEFAULT_MATRIX_PATTERNS);
  const progress = options.onProgress ?? (() => {});

  const base = await Checkpoint.open(options.baseDir);
  const ft = await Checkpoint.open(options.finetunedDir).catch(async (e) => {
    await base.close();
    throw e;
  });
  const spill = await SpillStore.create(options.tmpDir);
  const gemm = await Gemm.create(options.threads === undefined ? {} : { threads: options.threads });
  try {
    const baseHash = await hashCheckpoint(base, (d, t) =>
      progress({ phase: 'hash-base', done: d, total: t }),
    );
    const ftHash = await hashCheckpoint(ft, (d, t) =>
      progress({ phase: 'hash-finetuned', done: d, total: t }),
    );

    const plans: MatrixPlan[] = [];
    const raw: { name: string; dtype: Dtype; shape: number[] }[] = [];
    const dtypeVotes = new Map<Dtype, number>();
    for (const name of ft.names()) {
      const f = ftHash.tensors[name];
      const b = baseHash.tensors[name];
      if (b && b.sha256 === f.sha256 && b.dtype === f.dtype && sameShape(b.shape, f.shape)) continue;
      const matrix =
        b !== undefined &&
        sameShape(b.shape, f.shape) &&
        FLOAT_DTYPES.includes(f.dtype) &&
        FLOAT_DTYPES.includes(b.dtype) &&
        isCompressibleMatrix(name, f.shape, patterns);
      if (matrix) {
        plans.push({ name, shape: [f.shape[0], f.shape[1]], frobenius: 0 });
        dtypeVotes.set(f.dtype, (dtypeVotes.get(f.dtype) ?? 0) + 1);
      } else {
        raw.push({ name, dtype: f.dtype, shape: f.shape });
      }
    }
    const removed = base.names().filter((n) => !ft.has(n));
    const targetDtype = ([...dtypeVotes].sort((a, b) => b[1] - a[1])[0]?.[0] ?? 'F32') as
      | 'F32'
      | 'F16'
      | 'BF16';

    // Phase 1: SVD of every delta (spilled), so the allocation can see all spectra at once.
    const solverInputs: SolverMatrix[] = [];
    for (const [i, plan] of plans.entries()) {
      progress({ phase: 'analyze', done: i, total: plans.length, item: plan.name });
      const delta = await loadDelta(base, ft, plan.name);
      plan.frobenius = frobeniusNorm(delta);
      if (method === 'bitdelta') continue;
      const [m, n] = plan.shape;
      const rank = analysisRank(method, plan.shape, ratio, blockSize);
      if (rank === 0 || plan.frobenius === 0) {
        plan.sigma = new Float64Array(0);
        continue;
      }
      const f = await randomizedSvd(gemm, delta, m, n, rank, { ...svd, seed: svd.seed + i });
      plan.sigma = f.s;
      plan.factors = { u: await spill.put(f.u), s: await spill.put(f.s), vt: await spill.put(f.vt), k: f.k };
      if (method === 'delta-come' && ratio !== null) {
        solverInputs.push({
          name: plan.name,
          shape: plan.shape,
          sigma: f.s,
          errorFactor: measureQuantErrorFactors(f.vt, f.k, n, f.u, f.s, m, blockSize),
        });
      }
    }
    progress({ phase: 'analyze', done: plans.length, total: plans.length });

    // Phase 2: allocation.
    const budgetOf = (p: MatrixPlan) => (ratio ?? 1 / 16) * 2 * p.shape[0] * p.shape[1];
    if (method === 'delta-come') {
      if (ratio === null) {
        for (const p of plans) {
          p.groups = p.factors
            ? paperScheme(p.shape, { ratio: 1 / 16, vBlockSize: blockSize, maxRank: p.factors.k })
            : [];
        }
      } else {
        const budgetBytes = plans.reduce((s, p) => s + budgetOf(p), 0);
        const solved = solveBitAllocation(solverInputs, { budgetBytes, vBlockSize: blockSize });
        for (const p of plans) p.groups = solved.groups.get(p.name) ?? [];
      }
    } else if (method === 'low-rank') {
      for (const p of plans) p.rank = p.factors?.k ?? 0;
    }

    // Phase 3: encode each matrix, measure what a reader will reconstruct, spill the tensors.
    const matrices: MatrixEntry[] = [];
    const tensorSources: { name: string; dtype: Dtype; shape: number[]; handle: SpillHandle }[] = [];
    const pooled: MatrixErrorParts = { froNum: 0, froDen: 0, outNum: 0, outDen: 0 };
    let compressedBytes = 0;
    let fp16DeltaBytes = 0;
    for (const [i, plan] of plans.entries()) {
      progress({ phase: 'encode', done: i, total: plans.length, item: plan.name });
      const delta = await loadDelta(base, ft, plan.name);
      let encoded: EncodedMatrix;
      if (method === 'bitdelta') {
        encoded = encodeBitDelta(plan.name, plan.shape, delta);
      } else {
        const factors: SvdFactors = plan.factors
          ? {
              u: await spill.getFloat32(plan.factors.u),
              s: await spill.getFloat64(plan.factors.s),
              vt: await spill.getFloat32(plan.factors.vt),
              k: plan.factors.k,
            }
          : { u: new Float32Array(0), s: new Float64Array(0), vt: new Float32Array(0), k: 0 };
        encoded =
          method === 'delta-come'
            ? encodeDeltaCoMe(plan.name, plan.shape, factors, plan.groups ?? [], gemm)
            : encodeLowRank(plan.name, plan.shape, factors, plan.rank ?? 0, gemm);
      }
      const err = await measureMatrixError(delta, encoded.rows, plan.shape, gemm, svd.seed * 7919 + i);
      pooled.froNum += err.froNum;
      pooled.froDen += err.froDen;
      pooled.outNum += err.outNum;
      pooled.outDen += err.outDen;
      let bytes = 0;
      for (const t of encoded.tensors) {
        bytes += t.data.length;
        tensorSources.push({ name: t.name, dtype: t.dtype, shape: t.shape, handle: await spill.put(t.data) });
      }
      const fp16Bytes = 2 * plan.shape[0] * plan.shape[1];
      compressedBytes += bytes;
      fp16DeltaBytes += fp16Bytes;
      matrices.push({
        ...encoded.entry,
        spectrum: plan.sigma && plan.sigma.length > 0 ? summarizeSpectrum(plan.sigma, plan.frobenius) : null,
        stats: {
          bytes,
          fp16Bytes,
          alpha: bytes / fp16Bytes,
          relFroError: ratioOrNull(err.froNum, err.froDen),
          relOutputError: ratioOrNull(err.outNum, err.outDen),
        },
      } as MatrixEntry);
    }
    progress({ phase: 'encode', done: plans.length, total: plans.length });

    const rawBytes = raw.reduce((s, r) => s + (ft.info(r.name).end - ft.info(r.name).begin), 0);
    const files = await changedSideFiles(options.baseDir, options.finetunedDir);
    const manifest: DeltaManifest = {
      formatVersion: FORMAT_VERSION,
      method,
      createdBy: `deltahub ${VERSION}`,
      base: {
        digest: baseHash.digest,
        architecture: await architectureOf(options.baseDir),
        tensors: baseHash.tensors,
      },
      finetuned: Object.keys(files).length > 0 ? { digest: ftHash.digest, files } : { digest: ftHash.digest },
      targetDtype,
      compression: {
        scheme: method === 'delta-come' ? (ratio === null ? 'paper' : 'solver') : 'baseline',
        ratio: method === 'bitdelta' ? 1 / 16 : (ratio ?? (method === 'low-rank' ? 1 / 16 : null)),
        blockSize,
        svd: method === 'bitdelta' ? null : { kind: 'randomized', ...svd },
      },
      matrices,
      raw,
      removed,
      totals: {
        compressedBytes,
        fp16DeltaBytes,
        alpha: fp16DeltaBytes > 0 ? compressedBytes / fp16DeltaBytes : 0,
        rawBytes,
        relFroError: ratioOrNull(pooled.froNum, pooled.froDen),
        relOutputError: ratioOrNull(pooled.outNum, pooled.outDen),
      },
    };
    const entries = [
      ...tensorSources.map((t) => ({
        name: t.name,
        dtype: t.dtype,
        shape: t.shape,
        data: () => spill.get(t.handle),
      })),
      ...raw.map((r) => ({
        name: rawTensorName(r.name),
        dtype: r.dtype,
        shape: r.shape,
        data: () => ft.readBytes(r.name),
      })),
    ];
    let written = 0;
    const reported = entries.map((e) => ({
      ...e,
      data: async () => {
        progress({ phase: 'write', done: written++, total: entries.length, item: e.name });
        return e.data();
      },
    }));
    const out = await writeSafetensorsFile(options.outPath, reported, {
      format: DELTA_FORMAT_TAG,
      manifest: serializeDeltaManifest(manifest),
    });
    progress({ phase: 'write', done: entries.length, total: entries.length });
    return { outPath: options.outPath, bytes: out.bytes, sha256: out.sha256, manifest };
  } finally {
    await gemm.close();
    await spill.close();
    await ft.close();
    await base.close();
  }
}
