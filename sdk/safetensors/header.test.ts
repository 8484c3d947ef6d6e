import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { malformedCases, writeMalformedCorpus } from '../../test/fixtures/malformed/make-malformed.js';
import { SafetensorsFormatError } from '../errors/errors.js';
import { SafetensorsFile } from './file-reader.js';
import {
  MAX_HEADER_BYTES,
  parseSafetensorsBuffer,
  parseSafetensorsHeader,
  parseSafetensorsPrefix,
  readHeaderLength,
  tensorView,
} from './header.js';
import { buildSafetensorsHeader } from './header-writer.js';

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

function withData(header: Uint8Array, dataLength: number): Uint8Array {
  const out = new Uint8Array(header.length + dataLength);
  out.set(header);
  for (let i = 0; i < dataLength; i++) out[header.length + i] = i & 0xff;
  return out;
}

describe('buildSafetensorsHeader + parse', () => {
  it('round-trips layout, metadata and odd names; data starts 8-aligned', () => {
    const built = buildSafetensorsHeader(
      [
        { name: 'b', dtype: 'F16', shape: [3, 1] },
        { name: '__proto__', dtype: 'U8', shape: [5] },
        { name: 'scalar', dtype: 'F64', shape: [] },
        { name: 'empty', dtype: 'I32', shape: [0, 7] },
        { name: 'ünïcode ✓', dtype: 'BOOL', shape: [2] },
      ],
      { format: 'pt', __proto__x: 'y', 'with "quotes"': 'and\nnewline' },
    );
    expect(built.bytes.length % 8).toBe(0);
    expect(built.dataLength).toBe(6 + 5 + 8 + 0 + 2);
    const file = withData(built.bytes, built.dataLength);
    const h = parseSafetensorsBuffer(file);
    expect(h.dataOffset).toBe(built.bytes.length);
    expect(h.headerLength).toBe(built.bytes.length - 8);
    expect(h.dataLength).toBe(built.dataLength);
    expect(h.metadata).toEqual({ format: 'pt', __proto__x: 'y', 'with "quotes"': 'and\nnewline' });
    expect(h.tensors.map((t) => t.name)).toEqual(['b', '__proto__', 'scalar', 'empty', 'ünïcode ✓']);
    expect(h.tensors).toEqual(built.tensors);
    const proto = h.tensors.find((t) => t.name === '__proto__')!;
    expect(Array.from(tensorView(file, h, proto))).toEqual([6, 7, 8, 9, 10]);
    // Padding is spaces.
    expect(file[h.dataOffset - 1]).toBe(0x20);
  });

  it('accepts an empty file header {} and tolerates whitespace padding', () => {
    const json = new TextEncoder().encode('{}      ');
    const file = new Uint8Array(8 + json.length);
    new DataView(file.buffer).setBigUint64(0, BigInt(json.length), true);
    file.set(json, 8);
    expect(parseSafetensorsBuffer(file)).toEqual({
      headerLength: 8,
      dataOffset: 16,
      dataLength: 0,
      tensors: [],
      metadata: {},
    });
  });

  it('allows zero-length tensors at tensor boundaries, sorted deterministically', () => {
    const enc = new TextEncoder();
    const json = enc.encode(
      JSON.stringify({
        z: { dtype: 'F32', shape: [0], data_offsets: [4, 4] },
        a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] },
        y: { dtype: 'U8', shape: [0, 3], data_offsets: [0, 0] },
      }),
    );
    const h = parseSafetensorsHeader(json, 4);
    expect(h.tensors.map((t) => t.name)).toEqual(['y', 'a', 'z']);
  });

  it('refuses writer input a reader would refuse', () => {
    const bad = [
      [
        { name: 'a', dtype: 'F32', shape: [1] },
        { name: 'a', dtype: 'F32', shape: [1] },
      ],
      [{ name: '__metadata__', dtype: 'F32', shape: [1] }],
      [{ name: 'x'.repeat(1025), dtype: 'F32', shape: [1] }],
      [{ name: 'a', dtype: 'F8', shape: [1] }],
      [{ name: 'a', dtype: 'F32', shape: [-1] }],
      [{ name: 'a', dtype: 'F32', shape: [1.5] }],
      [{ name: 'a', dtype: 'F32', shape: [1, 1, 1, 1, 1, 1, 1, 1, 1] }],
      [{ name: 'a', dtype: 'F32', shape: [2 ** 30, 2 ** 30, 2 ** 30] }],
    ] as unknown as Parameters<typeof buildSafetensorsHeader>[0][];
    for (const entries of bad) {
      expect(() => buildSafetensorsHeader(entries)).toThrow(SafetensorsFormatError);
    }
    expect(() => buildSafetensorsHeader([], { n: 1 } as unknown as Record<string, string>)).toThrow(
      SafetensorsFormatError,
    );
  });

  it('readHeaderLength validates before anything is allocated', () => {
    const b = new Uint8Array(8);
    const dv = new DataView(b.buffer);
    dv.setBigUint64(0, BigInt(MAX_HEADER_BYTES), true);
    expect(readHeaderLength(b)).toBe(MAX_HEADER_BYTES);
    expect(() => readHeaderLength(b, MAX_HEADER_BYTES + 7)).toThrow(/past the end/);
    dv.setBigUint64(0, BigInt(MAX_HEADER_BYTES + 1), true);
    const e = catchError(() => readHeaderLength(b)) as SafetensorsFormatError;
    expect(e).toBeInstanceOf(SafetensorsFormatError);
    expect(e.details).toMatchObject({ reason: 'header_too_large', declared: '100000001' });
    expect(() => readHeaderLength(new Uint8Array(7))).toThrow(SafetensorsFormatError);
  });

  it('parseSafetensorsPrefix needs the whole header but ignores bytes after it', () => {
    const built = buildSafetensorsHeader([{ name: 'w', dtype: 'F32', shape: [4] }]);
    const file = withData(built.bytes, 16);
    expect(parseSafetensorsPrefix(file.subarray(0, built.bytes.length), file.length).tensors[0].end).toBe(16);
    expect(() => parseSafetensorsPrefix(file.subarray(0, built.bytes.length - 1), file.length)).toThrow(
      /prefix has/,
    );
    // Without a file size the data length comes from the tensors (no truncation check possible).
    expect(parseSafetensorsPrefix(file.subarray(0, built.bytes.length)).dataLength).toBe(16);
  });
});

describe('malformed corpus', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'st-malformed-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('is deterministic and covers the required cases', () => {
    const a = malformedCases();
    const b = malformedCases();
    expect(a.map((c) => c.name)).toEqual(b.map((c) => c.name));
    for (const [i, c] of a.entries()) expect(c.bytes).toEqual(b[i].bytes);
    expect(new Set(a.map((c) => c.name)).size).toBe(a.length);
    expect(a.length).toBeGreaterThanOrEqual(30);
  });

  for (const c of malformedCases()) {
    it(`pure parser rejects ${c.name}`, () => {
      const e = catchError(() => parseSafetensorsPrefix(c.bytes, c.bytes.length)) as SafetensorsFormatError;
      expect(e).toBeInstanceOf(SafetensorsFormatError);
      expect(e.code).toBe('SAFETENSORS_FORMAT');
      expect(e.message).toMatch(c.expect);
      expect(e.message).not.toContain('\n');
      expect(typeof e.details?.reason).toBe('string');
    });
  }

  it('SafetensorsFile.open rejects every file of the written corpus, naming the path', async () => {
    const written = await writeMalformedCorpus(dir);
    expect(written.length).toBe(malformedCases().length);
    for (const w of written) {
      const err = await SafetensorsFile.open(w.path).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err, w.name).toBeInstanceOf(SafetensorsFormatError);
      const e = err as SafetensorsFormatError;
      expect(e.message, w.name).toMatch(w.expect);
      expect(e.details?.path, w.name).toBe(w.path);
    }
  });
});

describe('edge-runtime purity', () => {
  it('header, header-writer, dtypes and digest import no node: modules (transitively)', async () => {
    const here = dirname(fileURLToPath(import.meta.url));
    const seen = new Set<string>();
    const visit = async (file: string): Promise<void> => {
      if (seen.has(file)) return;
      seen.add(file);
      const src = await readFile(file, 'utf8');
      // Static imports only: digest.ts loads node:crypto lazily inside hashCheckpoint on purpose.
      for (const m of src.matchAll(/^import\s+(type\s+)?[^;]*?from\s+'([^']+)';/gms)) {
        const [, typeOnly, spec] = m;
        if (typeOnly) continue;
        expect(spec, `${file} imports ${spec}`).not.toMatch(/^node:/);
        if (spec.startsWith('.')) await visit(resolve(dirname(file), spec.replace(/\.js$/, '.ts')));
      }
    };
    for (const f of ['header.ts', 'header-writer.ts', 'dtypes.ts', 'digest.ts']) await visit(join(here, f));
    expect(seen.size).toBeGreaterThanOrEqual(5);
  });
});
