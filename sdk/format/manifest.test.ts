import { describe, expect, it } from 'vitest';
import { sampleManifest } from '../../test/helpers/sample-manifest.js';
import { DeltaFormatError, UnsupportedFormatVersionError } from '../errors/errors.js';
import { expectedDeltaTensors } from './layout.js';
import { parseDeltaManifest, serializeDeltaManifest } from './manifest.js';

describe('delta manifest', () => {
  it('round-trips a valid manifest', () => {
    const m = sampleManifest();
    expect(parseDeltaManifest(serializeDeltaManifest(m))).toEqual(m);
  });

  it('refuses an unknown major version with a clear, typed error', () => {
    const text = JSON.stringify({ ...sampleManifest(), formatVersion: '2.0', method: 'something-new' });
    expect(() => parseDeltaManifest(text)).toThrow(UnsupportedFormatVersionError);
    expect(() => parseDeltaManifest(text)).toThrow(/2\.0 is not supported.*upgrade/);
  });

  it('accepts a newer minor version and ignores its unknown fields', () => {
    const text = JSON.stringify({ ...sampleManifest(), formatVersion: '1.7', futureField: { x: 1 } });
    expect(parseDeltaManifest(text).formatVersion).toBe('1.7');
  });

  it.each([
    ['not JSON', '{'],
    ['an array', '[]'],
    ['no version', JSON.stringify({ method: 'delta-come' })],
    ['bad method', JSON.stringify({ ...sampleManifest(), method: 'zip' })],
    ['bits 5', JSON.stringify(sampleManifest()).replace('"bits":8', '"bits":5')],
    ['block 48', JSON.stringify(sampleManifest()).replace('"vBlockSize":16', '"vBlockSize":48')],
    ['gap in ranks', JSON.stringify(sampleManifest()).replace('"ranks":[1,5]', '"ranks":[2,5]')],
    ['rank beyond shape', JSON.stringify(sampleManifest()).replace('"ranks":[1,5]', '"ranks":[1,33]')],
    ['bad digest', JSON.stringify(sampleManifest()).replace('sha256:aaaa', 'sha256:AAAA')],
    [
      'side file path',
      JSON.stringify({
        ...sampleManifest(),
        finetuned: { digest: `sha256:${'c'.repeat(64)}`, files: { '../x': '' } },
      }),
    ],
  ])('rejects %s as DeltaFormatError', (_label, text) => {
    expect(() => parseDeltaManifest(text)).toThrow(DeltaFormatError);
  });

  it('rejects an encoding that does not match the method', () => {
    const m = sampleManifest({ method: 'low-rank' });
    expect(() => parseDeltaManifest(JSON.stringify(m))).toThrow(/needs lowrank-f16/);
  });

  it('derives the tensor layout of every group part', () => {
    const names = expectedDeltaTensors(sampleManifest()).map((t) => `${t.name} ${t.shape.join('x')}`);
    expect(names).toEqual([
      'delta/model.layers.0.self_attn.q_proj.weight/g0/v.qweight 1x3x16',
      'delta/model.layers.0.self_attn.q_proj.weight/g0/v.scales 1x3',
      'delta/model.layers.0.self_attn.q_proj.weight/g0/v.zeros 1x3',
      'delta/model.layers.0.self_attn.q_proj.weight/g0/u.qweight 32x1x16',
      'delta/model.layers.0.self_attn.q_proj.weight/g0/u.scales 32x1',
      'delta/model.layers.0.self_attn.q_proj.weight/g0/u.zeros 32x1',
      'delta/model.layers.0.self_attn.q_proj.weight/g1/v.qweight 4x3x4',
      'delta/model.layers.0.self_attn.q_proj.weight/g1/v.scales 4x3',
      'delta/model.layers.0.self_attn.q_proj.weight/g1/v.zeros 4x1',
      'delta/model.layers.0.self_attn.q_proj.weight/g1/u.qweight 32x1x4',
      'delta/model.layers.0.self_attn.q_proj.weight/g1/u.scales 32x1',
      'delta/model.layers.0.self_attn.q_proj.weight/g1/u.zeros 32x1',
      'raw/model.norm.weight 48',
    ]);
  });
});
