import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SafetensorsFormatError } from '../errors/errors.js';
import { DTYPES, type Dtype, dtypeByteSize } from './dtypes.js';
import { SafetensorsFile } from './file-reader.js';
import { type TensorEntry, writeSafetensorsFile } from './file-writer.js';
import { parseSafetensorsBuffer } from './header.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'st-file-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function bytesFor(dtype: Dtype, shape: number[], seed: number): Uint8Array {
  const n = shape.reduce((a, b) => a * b, 1) * dtypeByteSize(dtype);
  const out = new Uint8Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    out[i] = s >>> 24;
  }
  return out;
}

const SHAPES = [[], [0], [1], [3], [7, 5], [2, 0, 3], [1, 1, 1, 1, 1, 1, 1, 3], [13, 1, 3]];

describe('writeSafetensorsFile + SafetensorsFile', () => {
  it('round-trips every dtype with odd, 0-d and empty shapes', async () => {
    const entries: TensorEntry[] = [];
    let seed = 1;
    for (const dtype of DTYPES) {
      for (const shape of SHAPES) {
        const data = bytesFor(dtype, shape, seed++);
        // Alternate eager bytes, sync callbacks and async callbacks.
        entries.push({
          name: `${dtype}/${shape.join('x') || 'scalar'}`,
          dtype,
          shape,
          data: seed % 3 === 0 ? data : seed % 3 === 1 ? () => data : async () => data,
        });
      }
    }
    const path = join(dir, 'all.safetensors');
    const res = await writeSafetensorsFile(path, entries, { format: 'pt', note: 'ü' });
    const raw = await readFile(path);
    expect(res.bytes).toBe(raw.length);
    expect(res.sha256).toBe(createHash('sha256').update(raw).digest('hex'));
    // The pure parser agrees with the file reader.
    expect(parseSafetensorsBuffer(new Uint8Array(raw)).tensors.length).toBe(entries.length);

    const f = await SafetensorsFile.open(path);
    try {
      expect(f.size).toBe(raw.length);
      expect(f.header.metadata).toEqual({ format: 'pt', note: 'ü' });
      expect(f.header.dataOffset % 8).toBe(0);
      expect(f.names()).toEqual(entries.map((e) => e.name));
      for (const e of entries) {
        const info = f.info(e.name);
        expect(info.dtype).toBe(e.dtype);
        expect(info.shape).toEqual(e.shape);
        const data = typeof e.data === 'function' ? await e.data() : e.data;
        expect(await f.readBytes(e.name)).toEqual(data);
        const chunks: Uint8Array[] = [];
        for await (const c of f.streamBytes(e.name, 7)) {
          expect(c.length).toBeLessThanOrEqual(7);
          chunks.push(c);
        }
        expect(Buffer.concat(chunks)).toEqual(Buffer.from(data));
      }
      expect(Array.from(await f.readFloat32('F32/3'))).toEqual(
        Array.from(
          new Float32Array(bytesFor('F32', [3], 1 + DTYPES.indexOf('F32') * SHAPES.length + 3).buffer),
        ),
      );
      expect(f.has('nope')).toBe(false);
      const e = (() => {
        try {
          f.info('nope');
        } catch (err) {
          return err as SafetensorsFormatError;
        }
      })();
      expect(e).toBeInstanceOf(SafetensorsFormatError);
      expect(e?.details?.reason).toBe('tensor_not_found');
    } finally {
      await f.close();
      await f.close();
    }
    await expect(f.readBytes('F32/3')).rejects.toThrow(/closed/);
  });

  it('readFloat32 decodes F16/BF16 files', async () => {
    const path = join(dir, 'half.safetensors');
    await writeSafetensorsFile(path, [
      { name: 'h', dtype: 'F16', shape: [2], data: new Uint8Array(new Uint16Array([0x3c00, 0xc000]).buffer) },
      {
        name: 'b',
        dtype: 'BF16',
        shape: [2],
        data: new Uint8Array(new Uint16Array([0x3f80, 0x4040]).buffer),
      },
    ]);
    const f = await SafetensorsFile.open(path);
    expect(Array.from(await f.readFloat32('h'))).toEqual([1, -2]);
    expect(Array.from(await f.readFloat32('b'))).toEqual([1, 3]);
    await f.close();
  });

  it('produces data lazily, one tensor at a time', async () => {
    const order: string[] = [];
    const mk = (name: string) => ({
      name,
      dtype: 'U8' as const,
      shape: [4],
      data: async () => {
        order.push(`start ${name}`);
        await new Promise((r) => setTimeout(r, 5));
        order.push(`end ${name}`);
        return new Uint8Array(4);
      },
    });
    await writeSafetensorsFile(join(dir, 'lazy.safetensors'), [mk('a'), mk('b'), mk('c')]);
    expect(order).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
  });

  it('is atomic: a throwing data callback leaves no file and no temp file, and keeps an old file', async () => {
    const sub = await mkdtemp(join(dir, 'atomic-'));
    const path = join(sub, 'model.safetensors');
    const boom = () => {
      throw new Error('producer failed');
    };
    await expect(
      writeSafetensorsFile(path, [
        { name: 'a', dtype: 'F32', shape: [2], data: new Uint8Array(8) },
        { name: 'b', dtype: 'F32', shape: [2], data: boom },
      ]),
    ).rejects.toThrow('producer failed');
    expect(await readdir(sub)).toEqual([]);

    await writeFile(path, 'previous contents');
    await expect(
      writeSafetensorsFile(path, [
        { name: 'a', dtype: 'F32', shape: [2], data: async () => new Uint8Array(7) },
      ]),
    ).rejects.toThrow(SafetensorsFormatError);
    expect(await readdir(sub)).toEqual(['model.safetensors']);
    expect(await readFile(path, 'utf8')).toBe('previous contents');

    // Header validation fails before any file is created.
    await expect(
      writeSafetensorsFile(path, [{ name: 'a', dtype: 'F32', shape: [-1], data: new Uint8Array(0) }]),
    ).rejects.toThrow(SafetensorsFormatError);
    expect(await readdir(sub)).toEqual(['model.safetensors']);
  });

  it('detects a file truncated after open as well as before', async () => {
    const path = join(dir, 'trunc.safetensors');
    await writeSafetensorsFile(path, [
      { name: 'a', dtype: 'F32', shape: [1024], data: new Uint8Array(4096) },
    ]);
    const f = await SafetensorsFile.open(path);
    await truncate(path, f.header.dataOffset + 100);
    await expect(f.readBytes('a')).rejects.toThrow(/ended early/);
    await f.close();
    await expect(SafetensorsFile.open(path)).rejects.toThrow(/truncated/);
  });

  it('rejects a bad chunk size', async () => {
    const path = join(dir, 'chunk.safetensors');
    await writeSafetensorsFile(path, [{ name: 'a', dtype: 'U8', shape: [3], data: new Uint8Array(3) }]);
    const f = await SafetensorsFile.open(path);
    const it = f.streamBytes('a', 0)[Symbol.asyncIterator]();
    await expect(it.next()).rejects.toThrow(SafetensorsFormatError);
    await f.close();
  });
});
