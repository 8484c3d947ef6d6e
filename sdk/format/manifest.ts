import { z } from 'zod';
import { DeltaFormatError, UnsupportedFormatVersionError } from '../errors/errors.js';

/** The `__metadata__.format` tag of every delta file. */
export const DELTA_FORMAT_TAG = 'deltahub.delta';
/** The format version this code writes; readers accept any `1.x`. */
export const FORMAT_VERSION = '1.0';
export const SUPPORTED_MAJOR = 1;

export const METHODS = ['delta-come', 'low-rank', 'bitdelta'] as const;
export type DeltaMethod = (typeof METHODS)[number];
export const QUANT_BITS = [8, 4, 3, 2] as const;
export type QuantBits = (typeof QUANT_BITS)[number];

const MAX_MATRICES = 100_000;
const MAX_GROUPS = 16;
const hex64 = z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 lower-case hex digits');
const digest = z.string().regex(/^sha256:[0-9a-f]{64}$/, 'expected sha256:<64 hex>');
const tensorName = z.string().min(1).max(1024);
const dim = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const shape = z.array(dim).max(8);
const dtype = z.enum(['F64', 'F32', 'F16', 'BF16', 'I64', 'I32', 'I16', 'I8', 'U8', 'BOOL']);
const floatDtype = z.enum(['F32', 'F16', 'BF16']);
const finite = z.number().finite();
const blockSize = z
  .number()
  .int()
  .min(16)
  .max(1024)
  .refine((b) => (b & (b - 1)) === 0, 'block size must be a power of two');

export const quantGroupSchema = z.object({
  ranks: z.tuple([dim, dim]),
  bits: z.union([z.literal(8), z.literal(4), z.literal(3), z.literal(2)]),
  vBlockSize: blockSize,
  uBlockSize: blockSize,
});
export type QuantGroup = z.infer<typeof quantGroupSchema>;

export const matrixStatsSchema = z.object({
  bytes: dim,
  fp16Bytes: dim,
  alpha: finite,
  relFroError: finite.nullable(),
  relOutputError: finite.nullable(),
});
export type MatrixStats = z.infer<typeof matrixStatsSchema>;

export const spectrumSchema = z.object({
  index: z.array(dim).max(4096),
  sigma: z.array(finite).max(4096),
  frobenius: finite,
});
export type Spectrum = z.infer<typeof spectrumSchema>;

const matrixBase = {
  name: tensorName,
  shape: z.tuple([dim, dim]),
  spectrum: spectrumSchema.nullable(),
  stats: matrixStatsSchema,
};

export const matrixEntrySchema = z.discriminatedUnion('encoding', [
  z.object({
    ...matrixBase,
    encoding: z.literal('lowrank-quant'),
    groups: z.array(quantGroupSchema).max(MAX_GROUPS),
  }),
  z.object({ ...matrixBase, encoding: z.literal('lowrank-f16'), rank: dim }),
  z.object({ ...matrixBase, encoding: z.literal('sign'), scale: finite }),
]);
export type MatrixEntry = z.infer<typeof matrixEntrySchema>;
export type QuantMatrixEntry = Extract<MatrixEntry, { encoding: 'lowrank-quant' }>;

export const rawEntrySchema = z.object({ name: tensorName, dtype, shape });
export type RawEntry = z.infer<typeof rawEntrySchema>;

export const totalsSchema = z.object({
  compressedBytes: dim,
  fp16DeltaBytes: dim,
  alpha: finite,
  rawBytes: dim,
  relFroError: finite.nullable(),
  relOutputError: finite.nullable(),
});
export type Totals = z.infer<typeof totalsSchema>;

export const baseTensorSchema = z.object({ dtype, shape, sha256: hex64 });
export type BaseTensorIdentity = z.infer<typeof baseTensorSchema>;

export const deltaManifestSchema = z.object({
  formatVersion: z.string().regex(/^\d+\.\d+$/),
  method: z.enum(METHODS),
  createdBy: z.string().max(200),
  base: z.object({
    digest,
    architecture: z.string().max(200).nullable(),
    tensors: z.record(tensorName, baseTensorSchema),
  }),
  finetuned: z.object({
    digest,
    /** Small side files of the fine-tune that differ from the base (config.json after a vocabulary
     * grew, tokenizer files), written over the base's copies when applying. */
    files: z
      .record(z.string().regex(/^[A-Za-z0-9._-]{1,128}$/, 'plain file name'), z.string().max(32_000_000))
      .optional(),
  }),
  targetDtype: floatDtype,
  compression: z.object({
    scheme: z.enum(['paper', 'solver', 'baseline']),
    ratio: finite.positive().nullable(),
    blockSize,
    svd: z
      .object({
        kind: z.enum(['randomized', 'exact']),
        oversample: dim,
        powerIterations: dim,
        seed: z.number().int(),
      })
      .nullable(),
  }),
  matrices: z.array(matrixEntrySchema).max(MAX_MATRICES),
  raw: z.array(rawEntrySchema).max(MAX_MATRICES),
  removed: z.array(tensorName).max(MAX_MATRICES),
  totals: totalsSchema,
});
export type DeltaManifest = z.infer<typeof deltaManifestSchema>;

/**
 * Parses and validates a manifest's JSON text. Refuses an unknown major version before looking at
 * anything else, so that a future format fails with a clear message instead of a schema error.
 *
 * @example
 * ```ts
 * const manifest = parseDeltaManifest(header.metadata.manifest);
 * console.log(manifest.method, manifest.totals.alpha);
 * ```
 */
export function parseDeltaManifest(json: string): DeltaManifest {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (cause) {
    throw new DeltaFormatError('delta manifest is not valid JSON', undefined, { cause });
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new DeltaFormatError('delta manifest must be a JSON object');
  }
  const version = (raw as { formatVersion?: unknown }).formatVersion;
  if (typeof version !== 'string' || !/^\d+\.\d+$/.test(version)) {
    throw new DeltaFormatError('delta manifest has no valid formatVersion ("MAJOR.MINOR")', { version });
  }
  const major = Number(version.split('.')[0]);
  if (major !== SUPPORTED_MAJOR) {
    throw new UnsupportedFormatVersionError(
      `delta format version ${version} is not supported by this deltahub (reads ${SUPPORTED_MAJOR}.x); upgrade deltahub`,
      { version, supportedMajor: SUPPORTED_MAJOR },
    );
  }
  const parsed = deltaManifestSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue ? issue.path.join('.') : '';
    throw new DeltaFormatError(
      `invalid delta manifest at ${where || '(root)'}: ${issue?.message ?? 'invalid'}`,
      {
        path: where,
      },
    );
  }
  checkManifestConsistency(parsed.data);
  return parsed.data;
}

/** Rules zod cannot express per field: group ranges, shape limits, method/encoding agreement. */
function checkManifestConsistency(m: DeltaManifest): void {
  const names = new Set<string>();
  for (const entry of m.matrices) {
    if (names.has(entry.name)) throw new DeltaFormatError(`matrix ${entry.name} is listed twice`);
    names.add(entry.name);
    const [out, inn] = entry.shape;
    if (out === 0 || inn === 0) throw new DeltaFormatError(`matrix ${entry.name} has an empty shape`);
    const fullRank = Math.min(out, inn);
    const expected = { 'delta-come': 'lowrank-quant', 'low-rank': 'lowrank-f16', bitdelta: 'sign' }[m.method];
    if (entry.encoding !== expected) {
      throw new DeltaFormatError(
        `matrix ${entry.name} uses ${entry.encoding}, but method ${m.method} needs ${expected}`,
      );
    }
    if (entry.encoding === 'lowrank-quant') {
      let next = 0;
      for (const g of entry.groups) {
        const [r0, r1] = g.ranks;
        if (r0 !== next || r1 <= r0 || r1 > fullRank) {
          throw new DeltaFormatError(
            `matrix ${entry.name}: group ranks [${r0}, ${r1}) must continue at ${next} and stay within rank ${fullRank}`,
          );
        }
        next = r1;
      }
    } else if (entry.encoding === 'lowrank-f16' && entry.rank > fullRank) {
      throw new DeltaFormatError(`matrix ${entry.name}: rank ${entry.rank} exceeds ${fullRank}`);
    }
  }
  for (const r of m.raw) {
    if (names.has(r.name)) throw new DeltaFormatError(`tensor ${r.name} is both a matrix and raw`);
    names.add(r.name);
  }
}

/** Serialises a manifest for `__metadata__.manifest` (validated first: never write what cannot be read). */
export function serializeDeltaManifest(manifest: DeltaManifest): string {
  const text = JSON.stringify(manifest);
  parseDeltaManifest(text);
  return text;
}
