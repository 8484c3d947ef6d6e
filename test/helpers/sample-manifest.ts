import type { DeltaManifest } from '../../sdk/format/manifest.js';

const hex = (c: string) => c.repeat(64);

/** A small valid Delta-CoMe manifest for codec tests (sizes consistent with SPEC.md). */
export function sampleManifest(overrides: Partial<DeltaManifest> = {}): DeltaManifest {
  return {
    formatVersion: '1.0',
    method: 'delta-come',
    createdBy: 'deltahub test',
    base: {
      digest: `sha256:${hex('a')}`,
      architecture: 'LlamaForCausalLM',
      tensors: {
        'model.layers.0.self_attn.q_proj.weight': { dtype: 'F16', shape: [32, 48], sha256: hex('b') },
      },
    },
    finetuned: { digest: `sha256:${hex('c')}` },
    targetDtype: 'F16',
    compression: {
      scheme: 'solver',
      ratio: 0.0625,
      blockSize: 16,
      svd: { kind: 'randomized', oversample: 16, powerIterations: 2, seed: 1 },
    },
    matrices: [
      {
        name: 'model.layers.0.self_attn.q_proj.weight',
        shape: [32, 48],
        encoding: 'lowrank-quant',
        groups: [
          { ranks: [0, 1], bits: 8, vBlockSize: 16, uBlockSize: 16 },
          { ranks: [1, 5], bits: 2, vBlockSize: 16, uBlockSize: 16 },
        ],
        spectrum: { index: [0, 1, 2], sigma: [3, 2, 1], frobenius: 4 },
        stats: { bytes: 0, fp16Bytes: 3072, alpha: 0, relFroError: 0.5, relOutputError: 0.5 },
      },
    ],
    raw: [{ name: 'model.norm.weight', dtype: 'F16', shape: [48] }],
    removed: [],
    totals: {
      compressedBytes: 0,
      fp16DeltaBytes: 3072,
      alpha: 0,
      rawBytes: 96,
      relFroError: 0.5,
      relOutputError: 0.5,
    },
    ...overrides,
  };
}
