import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeLlamaFixturePair } from '../../scripts/fixtures/llama-fixture.js';
import { makeTempDir } from '../../test/helpers/temp-dir.js';
import type { DeltaManifest } from '../format/manifest.js';
import { compressCheckpoint } from './compress-checkpoint.js';

/**
 * The product's claim on the fixture (a long-tail delta spectrum, like real fine-tunes): at the
 * same byte budget α = 1/16, Delta-CoMe reconstructs the delta better than Low-Rank and BitDelta.
 */
describe('compressCheckpoint on the Llama-shaped fixture', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let pair: { baseDir: string; finetunedDir: string };
  const results: Record<string, DeltaManifest> = {};
  const run = async (key: string, method: DeltaManifest['method'], ratio?: number) => {
    const r = await compressCheckpoint({
      ...pair,
      outPath: join(dir, `${key}.safetensors`),
      method,
      ...(ratio !== undefined ? { ratio } : {}),
    });
    results[key] = r.manifest;
    return r;
  };

  beforeAll(async () => {
    ({ dir, cleanup } = await makeTempDir());
    pair = await makeLlamaFixturePair(join(dir, 'fixture'));
    await run('solver', 'delta-come', 1 / 16);
    await run('paper', 'delta-come');
    await run('lowrank', 'low-rank', 1 / 16);
    await run('bitdelta', 'bitdelta');
  }, 180_000);
  afterAll(() => cleanup());

  it('keeps every method within the 1/16 budget', () => {
    for (const key of ['solver', 'paper', 'lowrank'])
      expect(results[key].totals.alpha).toBeLessThanOrEqual(1 / 16);
    expect(results.bitdelta.totals.alpha).toBeCloseTo(1 / 16, 10);
    expect(results.solver.totals.alpha).toBeGreaterThan(0.9 / 16);
  });

  it('Delta-CoMe (budget solver) beats Low-Rank and BitDelta on weight and output error', () => {
    const e = (k: string) => results[k].totals;
    expect(e('solver').relFroError!).toBeLessThan(e('lowrank').relFroError!);
    expect(e('solver').relFroError!).toBeLessThan(e('bitdelta').relFroError!);
    expect(e('solver').relOutputError!).toBeLessThan(e('lowrank').relOutputError!);
    expect(e('solver').relOutputError!).toBeLessThan(e('bitdelta').relOutputError!);
  });

  it('the solver does at least as well as the paper split at the same budget', () => {
    expect(results.solver.totals.relFroError!).toBeLessThanOrEqual(results.paper.totals.relFroError! * 1.001);
  });

  it('uses mixed precision: several bit widths, highest first', () => {
    const m = results.solver.matrices[0];
    if (m.encoding !== 'lowrank-quant') throw new Error('expected lowrank-quant');
    expect(m.groups.length).toBeGreaterThan(1);
    for (let i = 1; i < m.groups.length; i++) expect(m.groups[i].bits).toBeLessThan(m.groups[i - 1].bits);
  });

  it('stores changed non-matrix tensors raw, including the grown vocabulary', () => {
    const raw = Object.fromEntries(results.solver.raw.map((r) => [r.name, r.shape]));
    expect(raw['model.embed_tokens.weight']).toEqual([392, 384]);
    expect(raw['lm_head.weight']).toEqual([392, 384]);
    expect(raw['model.norm.weight']).toEqual([384]);
    expect(results.solver.finetuned.files?.['config.json']).toMatch(/"vocab_size": 392/);
  });

  it('is deterministic for a seed', async () => {
    const a = await compressCheckpoint({ ...pair, outPath: join(dir, 'a.safetensors'), ratio: 1 / 16 });
    const b = await compressCheckpoint({ ...pair, outPath: join(dir, 'b.safetensors'), ratio: 1 / 16 });
    expect(a.sha256).toBe(b.sha256);
  });

  it('leaves no half-written file when it fails mid-write', async () => {
    const outPath = join(dir, 'failed.safetensors');
    await expect(
      compressCheckpoint({
        ...pair,
        outPath,
        method: 'bitdelta',
        onProgress: (p) => {
          if (p.phase === 'write' && p.done === 3) throw new Error('disk on fire');
        },
      }),
    ).rejects.toThrow('disk on fire');
    const left = (await readdir(dir)).filter((f) => f.includes('failed'));
    expect(left).toEqual([]);
  });
});
