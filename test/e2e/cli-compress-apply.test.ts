import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeLlamaFixturePair } from '../../scripts/fixtures/llama-fixture.js';
import { Checkpoint } from '../../sdk/safetensors/checkpoint.js';
import { SafetensorsFile } from '../../sdk/safetensors/file-reader.js';
import { runCli } from '../helpers/run-cli.js';
import { makeTempDir } from '../helpers/temp-dir.js';

/** The README's walk-through, through the real bin: compress → inspect → apply, and its refusals. */
describe('deltahub CLI: compress → inspect → apply on the fixture', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let baseDir: string;
  let finetunedDir: string;
  let deltaPath: string;

  beforeAll(async () => {
    ({ dir, cleanup } = await makeTempDir());
    ({ baseDir, finetunedDir } = await makeLlamaFixturePair(join(dir, 'fixture')));
    deltaPath = join(dir, 'math.delta.safetensors');
  });
  afterAll(() => cleanup());

  it('compresses with --json output and an α at the budget', () => {
    const r = runCli([
      'compress',
      '--base',
      baseDir,
      '--finetuned',
      finetunedDir,
      '--out',
      deltaPath,
      '--ratio',
      '1/16',
      '--json',
    ]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.method).toBe('delta-come');
    expect(out.totals.alpha).toBeLessThanOrEqual(1 / 16);
    expect(out.totals.alpha).toBeGreaterThan(0.05);
    expect(out.matrices).toHaveLength(14);
    expect(out.raw.map((t: { name: string }) => t.name)).toContain('model.embed_tokens.weight');
  });

  it('α in the manifest equals the SPEC formula over the stored tensors', async () => {
    const file = await SafetensorsFile.open(deltaPath);
    const manifest = JSON.parse(file.header.metadata.manifest);
    let stored = 0;
    for (const t of file.header.tensors) if (t.name.startsWith('delta/')) stored += t.end - t.begin;
    const fp16 = manifest.matrices.reduce(
      (s: number, m: { shape: number[] }) => s + 2 * m.shape[0] * m.shape[1],
      0,
    );
    expect(manifest.totals.alpha).toBeCloseTo(stored / fp16, 12);
    await file.close();
  });

  it('inspects as a table and as JSON', () => {
    const text = runCli(['inspect', deltaPath]);
    expect(text.status).toBe(0);
    expect(text.stdout).toMatch(/method\s+delta-come/);
    expect(text.stdout).toMatch(/model\.layers\.0\.self_attn\.q_proj\.weight\s+384×384\s+\d+b×\d+/);
    const json = JSON.parse(runCli(['inspect', deltaPath, '--json']).stdout);
    expect(json.totals.alpha).toBeGreaterThan(0);
    expect(json.base.tensorCount).toBeGreaterThan(0);
  });

  it('applies to the base: merged weights reproduce the reported error; grown vocab and config carried', async () => {
    const outDir = join(dir, 'merged');
    const r = runCli(['apply', '--base', baseDir, '--delta', deltaPath, '--out', outDir]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const manifest = JSON.parse(runCli(['inspect', deltaPath, '--json']).stdout);
    const merged = await Checkpoint.open(outDir);
    const base = await Checkpoint.open(baseDir);
    const ft = await Checkpoint.open(finetunedDir);
    expect(merged.names()).toEqual(ft.names());
    let num = 0;
    let den = 0;
    for (const m of manifest.matrices as { name: string }[]) {
      const [w, b, f] = await Promise.all([
        merged.readFloat32(m.name),
        base.readFloat32(m.name),
        ft.readFloat32(m.name),
      ]);
      for (let i = 0; i < w.length; i++) {
        num += (w[i] - f[i]) ** 2;
        den += (f[i] - b[i]) ** 2;
      }
    }
    // F16 storage of the merged weights adds rounding on top of the delta's own error.
    expect(Math.abs(Math.sqrt(num / den) - manifest.totals.relFroError)).toBeLessThan(0.02);
    expect(merged.info('model.embed_tokens.weight').shape).toEqual(
      ft.info('model.embed_tokens.weight').shape,
    );
    expect(await merged.readBytes('model.norm.weight')).toEqual(await ft.readBytes('model.norm.weight'));
    expect(JSON.parse(await readFile(join(outDir, 'config.json'), 'utf8')).vocab_size).toBe(392);
    await Promise.all([merged.close(), base.close(), ft.close()]);
  });

  it('refuses the wrong base with exit code 4 and one clear line', () => {
    const r = runCli(['apply', '--base', finetunedDir, '--delta', deltaPath, '--out', join(dir, 'wrong')]);
    expect(r.status).toBe(4);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^deltahub: BASE_MISMATCH: this delta was made for base sha256:[0-9a-f]{64}/);
  });

  it('gives one-line reasons and documented exit codes on bad input', async () => {
    const missing = runCli(['inspect', join(dir, 'nope.safetensors')]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/^deltahub: no such file or directory/);
    const ratio = runCli([
      'compress',
      '--base',
      baseDir,
      '--finetuned',
      finetunedDir,
      '--out',
      join(dir, 'x'),
      '--ratio',
      '3',
    ]);
    expect(ratio.status).toBe(2);
    expect(ratio.stderr).toMatch(/INVALID_INPUT: invalid ratio "3"/);
    const junk = join(dir, 'junk.safetensors');
    await writeFile(junk, Buffer.from('this is not a safetensors file at all'));
    const bad = runCli(['inspect', junk]);
    expect(bad.status).toBe(3);
    expect(bad.stderr).toMatch(/^deltahub: SAFETENSORS_FORMAT: /);
    const usage = runCli(['compress', '--base', baseDir]);
    expect(usage.status).toBe(2);
  });
});
