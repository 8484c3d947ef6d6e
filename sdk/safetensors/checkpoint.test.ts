import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidInputError, SafetensorsFormatError } from '../errors/errors.js';
import { Checkpoint, INDEX_FILE, writeShardedCheckpoint } from './checkpoint.js';
import { checkpointDigest, hashCheckpoint, tensorSha256 } from './digest.js';
import type { Dtype } from './dtypes.js';
import { type TensorEntry, writeSafetensorsFile } from './file-writer.js';

let root: string;
let n = 0;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'st-ckpt-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});
async function freshDir(): Promise<string> {
  const d = join(root, `d${n++}`);
  await mkdir(d);
  return d;
}

function filled(len: number, seed: number): Uint8Array {
  return new Uint8Array(len).map((_, i) => (i * 31 + seed * 7) & 0xff);
}

function model(): TensorEntry[] {
  const spec: [string, Dtype, number[]][] = [
    ['model.embed_tokens.weight', 'BF16', [50, 16]],
    ['model.layers.0.self_attn.q_proj.weight', 'F16', [16, 16]],
    ['model.layers.0.input_layernorm.weight', 'F32', [16]],
    ['model.layers.1.self_attn.q_proj.weight', 'F16', [16, 16]],
    ['model.norm.weight', 'F32', [16]],
    ['lm_head.weight', 'BF16', [50, 16]],
    ['scalar', 'I64', []],
    ['empty', 'F32', [0, 16]],
  ];
  const size = { BF16: 2, F16: 2, F32: 4, I64: 8 } as Record<string, number>;
  return spec.map(([name, dtype, shape], i) => ({
    name,
    dtype,
    shape,
    data: filled(shape.reduce((a, b) => a * b, 1) * size[dtype], i),
  }));
}

async function hashDir(dir: string): Promise<string> {
  const ckpt = await Checkpoint.open(dir);
  try {
    return (await hashCheckpoint(ckpt)).digest;
  } finally {
    await ckpt.close();
  }
}

describe('Checkpoint', () => {
  it('writes and reads a sharded checkpoint with an index', async () => {
    const dir = await freshDir();
    const entries = model();
    await writeShardedCheckpoint(dir, entries, { maxShardBytes: 2000, metadata: { format: 'pt' } });
    const files = (await readdir(dir)).sort();
    expect(files).toContain(INDEX_FILE);
    const shards = files.filter((f) => f.endsWith('.safetensors'));
    expect(shards.length).toBeGreaterThan(1);
    expect(shards.every((s) => /^model-\d{5}-of-\d{5}\.safetensors$/.test(s))).toBe(true);
    const index = JSON.parse(await readFile(join(dir, INDEX_FILE), 'utf8'));
    expect(index.metadata.total_size).toBe(entries.reduce((a, e) => a + (e.data as Uint8Array).length, 0));

    const ckpt = await Checkpoint.open(dir);
    try {
      expect(ckpt.names()).toEqual(entries.map((e) => e.name).sort());
      expect(ckpt.files()).toEqual(shards);
      expect(ckpt.indexMetadata).toEqual(index.metadata);
      for (const e of entries) {
        expect(ckpt.has(e.name)).toBe(true);
        const info = ckpt.info(e.name);
        expect(info.file).toBe(index.weight_map[e.name]);
        expect(info.shape).toEqual(e.shape);
        expect(await ckpt.readBytes(e.name)).toEqual(e.data);
      }
      expect((await ckpt.readFloat32('model.norm.weight')).length).toBe(16);
      expect(() => ckpt.info('missing')).toThrow(SafetensorsFormatError);
    } finally {
      await ckpt.close();
    }
  });

  it('writes one shard as model.safetensors without an index, and reads it back', async () => {
    const dir = await freshDir();
    await writeShardedCheckpoint(dir, model(), { maxShardBytes: 1e9 });
    expect(await readdir(dir)).toEqual(['model.safetensors']);
    const ckpt = await Checkpoint.open(dir);
    expect(ckpt.files()).toEqual(['model.safetensors']);
    await ckpt.close();
  });

  it('refuses to write into a directory that already holds a checkpoint, and bad options', async () => {
    const dir = await freshDir();
    await writeShardedCheckpoint(dir, model(), { maxShardBytes: 1e9 });
    await expect(writeShardedCheckpoint(dir, model(), { maxShardBytes: 1e9 })).rejects.toThrow(
      InvalidInputError,
    );
    await expect(writeShardedCheckpoint(await freshDir(), model(), { maxShardBytes: 0 })).rejects.toThrow(
      InvalidInputError,
    );
  });

  it('removes the shards it wrote when a later shard fails', async () => {
    const dir = await freshDir();
    const entries = model();
    entries[entries.length - 2].data = () => {
      throw new Error('late failure');
    };
    await expect(writeShardedCheckpoint(dir, entries, { maxShardBytes: 500 })).rejects.toThrow(
      'late failure',
    );
    expect(await readdir(dir)).toEqual([]);
  });

  it('falls back to all *.safetensors in the directory, refusing duplicates', async () => {
    const dir = await freshDir();
    const [a, b, c] = model();
    await writeSafetensorsFile(join(dir, 'one.safetensors'), [a, b]);
    await writeSafetensorsFile(join(dir, 'two.safetensors'), [c]);
    await writeFile(join(dir, 'README.md'), 'not a tensor file');
    const ckpt = await Checkpoint.open(dir);
    expect(ckpt.files()).toEqual(['one.safetensors', 'two.safetensors']);
    expect(ckpt.info(c.name).file).toBe('two.safetensors');
    await ckpt.close();

    await writeSafetensorsFile(join(dir, 'three.safetensors'), [a]);
    await expect(Checkpoint.open(dir)).rejects.toThrow(/is in both one.safetensors and three.safetensors/);
    await expect(Checkpoint.open(await freshDir())).rejects.toThrow(SafetensorsFormatError);
  });

  it('validates the index: bad JSON, bad schema, unsafe shard names, missing and stray tensors', async () => {
    const [a, b, c] = model();
    const setup = async (index: unknown): Promise<string> => {
      const dir = await freshDir();
      await writeSafetensorsFile(join(dir, 's1.safetensors'), [a, b]);
      await writeSafetensorsFile(join(dir, 's2.safetensors'), [c]);
      await writeFile(join(dir, INDEX_FILE), typeof index === 'string' ? index : JSON.stringify(index));
      return dir;
    };
    const good = {
      weight_map: { [a.name]: 's1.safetensors', [b.name]: 's1.safetensors', [c.name]: 's2.safetensors' },
    };
    const ok = await Checkpoint.open(await setup(good));
    expect(ok.names().length).toBe(3);
    await ok.close();

    const bad: [unknown, RegExp][] = [
      ['{not json', /not valid JSON/],
      [{ weight_map: [] }, /weight_map/],
      [{ weight_map: { x: 1 } }, /weight_map/],
      [{ metadata: 'x', weight_map: {} }, /metadata/],
      [{ weight_map: { ...good.weight_map, [c.name]: '../s2.safetensors' } }, /not a plain file name/],
      [{ weight_map: { ...good.weight_map, [c.name]: '/etc/passwd' } }, /not a plain file name/],
      [{ weight_map: { ...good.weight_map, [c.name]: 'sub\\s2.safetensors' } }, /not a plain file name/],
      [{ weight_map: { ...good.weight_map, [c.name]: '..' } }, /not a plain file name/],
      [{ weight_map: { ...good.weight_map, [c.name]: 's1.safetensors' } }, /does not contain it/],
      [{ weight_map: { ...good.weight_map, ghost: 's1.safetensors' } }, /does not contain it/],
      [{ weight_map: { [a.name]: 's1.safetensors', [c.name]: 's2.safetensors' } }, /does not list/],
    ];
    for (const [index, re] of bad) {
      const err = await Checkpoint.open(await setup(index)).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err, JSON.stringify(index)).toBeInstanceOf(SafetensorsFormatError);
      expect((err as Error).message).toMatch(re);
    }
    // A shard listed in the index that does not exist is an I/O error, not a silent skip.
    await expect(
      Checkpoint.open(await setup({ weight_map: { ...good.weight_map, [c.name]: 'nope.safetensors' } })),
    ).rejects.toThrow(/ENOENT/);
  });

  it('rejects a tensor present in two shards even when the index maps it once', async () => {
    const dir = await freshDir();
    const [a, b] = model();
    await writeSafetensorsFile(join(dir, 's1.safetensors'), [a, b]);
    await writeSafetensorsFile(join(dir, 's2.safetensors'), [a]);
    await writeFile(
      join(dir, INDEX_FILE),
      JSON.stringify({ weight_map: { [a.name]: 's2.safetensors', [b.name]: 's1.safetensors' } }),
    );
    await expect(Checkpoint.open(dir)).rejects.toThrow(/is in both/);
  });
});

describe('digest', () => {
  it('matches the SPEC.md section 5 definition', async () => {
    const bytes = new Uint8Array([1, 2, 3]);
    const sha = createHash('sha256').update(bytes).digest('hex');
    expect(await tensorSha256(bytes)).toBe(sha);
    expect(await tensorSha256(new Uint8Array([9, 1, 2, 3]).subarray(1))).toBe(sha);
    const z = '0'.repeat(64);
    const text = `B\tF32\t\t${z}\na\tBF16\t2,3\t${sha}\n`; // 'B' < 'a' in code-unit order
    const want = `sha256:${createHash('sha256').update(text).digest('hex')}`;
    expect(
      await checkpointDigest([
        { name: 'a', dtype: 'BF16', shape: [2, 3], sha256: sha },
        { name: 'B', dtype: 'F32', shape: [], sha256: z },
      ]),
    ).toBe(want);
    await expect(
      checkpointDigest([
        { name: 'a', dtype: 'F32', shape: [], sha256: z },
        { name: 'a', dtype: 'F32', shape: [], sha256: z },
      ]),
    ).rejects.toThrow(/duplicate/);
    await expect(checkpointDigest([{ name: 'a\tb', dtype: 'F32', shape: [], sha256: z }])).rejects.toThrow(
      /tab/,
    );
    await expect(checkpointDigest([{ name: 'a', dtype: 'F32', shape: [1.5], sha256: z }])).rejects.toThrow(
      /bad dtype or shape/,
    );
    await expect(checkpointDigest([{ name: 'a', dtype: 'F32', shape: [], sha256: 'ABC' }])).rejects.toThrow(
      SafetensorsFormatError,
    );
  });

  it('does not depend on sharding, file names or tensor order, but on every byte, dtype and shape', async () => {
    const entries = model();
    const single = await freshDir();
    await writeShardedCheckpoint(single, entries, { maxShardBytes: 1e9 });
    const sharded = await freshDir();
    await writeShardedCheckpoint(sharded, entries.slice().reverse(), { maxShardBytes: 700 });
    const loose = await freshDir();
    await writeSafetensorsFile(join(loose, 'x.safetensors'), entries.slice(3));
    await writeSafetensorsFile(join(loose, 'y.safetensors'), entries.slice(0, 3), { other: 'metadata' });

    const d1 = await hashDir(single);
    expect(d1).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(await hashDir(sharded)).toBe(d1);
    expect(await hashDir(loose)).toBe(d1);

    // The streaming hash equals hashing each tensor in memory.
    const inMemory = await checkpointDigest(
      await Promise.all(
        entries.map(async (e) => ({ ...e, sha256: await tensorSha256(e.data as Uint8Array) })),
      ),
    );
    expect(inMemory).toBe(d1);

    const flipped = model();
    (flipped[2].data as Uint8Array)[3] ^= 1;
    const d2 = await freshDir();
    await writeShardedCheckpoint(d2, flipped, { maxShardBytes: 1e9 });
    expect(await hashDir(d2)).not.toBe(d1);

    const reshaped = model();
    reshaped[1].shape = [256];
    const d3 = await freshDir();
    await writeShardedCheckpoint(d3, reshaped, { maxShardBytes: 1e9 });
    expect(await hashDir(d3)).not.toBe(d1);
  });

  it('reports progress up to the total and returns per-tensor hashes', async () => {
    const dir = await freshDir();
    const entries = model();
    await writeShardedCheckpoint(dir, entries, { maxShardBytes: 700 });
    const ckpt = await Checkpoint.open(dir);
    const seen: [number, number][] = [];
    const res = await hashCheckpoint(ckpt, (d, t) => seen.push([d, t]));
    await ckpt.close();
    const total = entries.reduce((a, e) => a + (e.data as Uint8Array).length, 0);
    expect(seen[0]).toEqual([0, total]);
    expect(seen[seen.length - 1]).toEqual([total, total]);
    expect(Object.keys(res.tensors).sort()).toEqual(entries.map((e) => e.name).sort());
    expect(res.tensors['model.norm.weight'].sha256).toBe(
      createHash('sha256')
        .update(entries[4].data as Uint8Array)
        .digest('hex'),
    );
  });
});
