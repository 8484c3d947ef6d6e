import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SafetensorsFormatError } from '../errors/errors.js';
import { DTYPES, type Dtype } from './dtypes.js';
import { SafetensorsFile } from './file-reader.js';
import { parseSafetensorsBuffer, type SafetensorsHeader } from './header.js';
import { buildSafetensorsHeader } from './header-writer.js';

// Property: whatever the bytes, the reader either returns a header that satisfies every invariant
// or throws SafetensorsFormatError; never a TypeError, RangeError or out-of-memory.

function checkInvariants(h: SafetensorsHeader, fileLength: number): void {
  expect(h.dataOffset).toBe(8 + h.headerLength);
  expect(h.dataOffset + h.dataLength).toBe(fileLength);
  let pos = 0;
  for (const t of h.tensors) {
    expect(t.begin).toBe(pos);
    expect(t.end).toBeGreaterThanOrEqual(t.begin);
    expect(DTYPES).toContain(t.dtype);
    expect(t.shape.length).toBeLessThanOrEqual(8);
    pos = t.end;
  }
  expect(pos).toBe(h.dataLength);
  for (const v of Object.values(h.metadata)) expect(typeof v).toBe('string');
}

function parseOrFormatError(bytes: Uint8Array): void {
  let h: SafetensorsHeader;
  try {
    h = parseSafetensorsBuffer(bytes);
  } catch (e) {
    if (!(e instanceof SafetensorsFormatError)) throw e;
    expect(e.message).not.toContain('\n');
    return;
  }
  checkInvariants(h, bytes.length);
}

const dtypeArb = fc.constantFrom<Dtype>(...DTYPES);
const declArb = fc.record({
  name: fc.string({ maxLength: 12 }),
  dtype: dtypeArb,
  shape: fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 }),
});

/** A valid file: header from the writer plus filler data. */
const validFileArb = fc
  .tuple(
    fc.uniqueArray(declArb, { maxLength: 5, selector: (d) => d.name }),
    fc.option(fc.dictionary(fc.string({ maxLength: 6 }), fc.string({ maxLength: 6 }), { maxKeys: 3 }), {
      nil: undefined,
    }),
  )
  .filter(([decls]) => decls.every((d) => d.name !== '__metadata__'))
  .map(([decls, metadata]) => {
    const { bytes, dataLength } = buildSafetensorsHeader(decls, metadata);
    const file = new Uint8Array(bytes.length + dataLength);
    file.set(bytes);
    file.fill(0xab, bytes.length);
    return file;
  });

type Mutation =
  | { kind: 'flip'; at: number; value: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'insert'; at: number; bytes: number[] }
  | { kind: 'delete'; at: number; count: number };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    bytes: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 4 }),
  }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 4 }) }),
);

function mutate(file: Uint8Array, muts: Mutation[]): Uint8Array {
  let b = Array.from(file);
  for (const m of muts) {
    const at = b.length === 0 ? 0 : m.at % (b.length + 1);
    if (m.kind === 'flip' && b.length > 0) b[at % b.length] = m.value;
    else if (m.kind === 'truncate') b = b.slice(0, at);
    else if (m.kind === 'insert') b.splice(at, 0, ...m.bytes);
    else if (m.kind === 'delete') b.splice(at, m.count);
  }
  return new Uint8Array(b);
}

/** Mutations aimed at the 8-byte prefix and the JSON text, where parser bugs live. */
const headerFlipArb = fc.array(
  fc.record({
    at: fc.integer({ min: 0, max: 200 }),
    value: fc.constantFrom(
      0x00,
      0x20,
      0x22,
      0x2c,
      0x2d,
      0x2e,
      0x30,
      0x31,
      0x39,
      0x3a,
      0x5b,
      0x5d,
      0x7b,
      0x7d,
      0x65,
      0x80,
      0xff,
    ),
  }),
  { minLength: 1, maxLength: 3 },
);

/** Headers that look like safetensors but with hostile values. */
const numberish = fc.oneof(
  fc.nat(64),
  fc.integer(),
  fc.double(),
  fc.constantFrom(2 ** 53, 2 ** 53 + 2, -0, 1e308, Number.MAX_SAFE_INTEGER),
  fc.string({ maxLength: 3 }),
  fc.constant(null),
);
const entryArb = fc.record(
  {
    dtype: fc.oneof(
      dtypeArb,
      fc.string({ maxLength: 5 }),
      fc.constantFrom('toString', '__proto__', 'constructor'),
    ),
    shape: fc.oneof(fc.array(numberish, { maxLength: 10 }), numberish),
    data_offsets: fc.oneof(
      fc.array(numberish, { maxLength: 3 }),
      fc.tuple(fc.nat(64), fc.nat(64)),
      numberish,
    ),
  },
  { requiredKeys: [] },
);
const jsonHeaderArb = fc.dictionary(
  fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('__metadata__', '__proto__', 'constructor')),
  fc.oneof({ weight: 4, arbitrary: entryArb }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) }),
  { maxKeys: 5 },
);

function fileFromJson(text: string, dataLength: number): Uint8Array {
  const json = new TextEncoder().encode(text);
  const out = new Uint8Array(8 + json.length + dataLength);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  return out;
}

describe('fuzz: the parser only ever throws SafetensorsFormatError', () => {
  it('random mutations and truncations of valid files', () => {
    fc.assert(
      fc.property(validFileArb, fc.array(mutationArb, { minLength: 1, maxLength: 4 }), (file, muts) => {
        parseOrFormatError(mutate(file, muts));
      }),
      { numRuns: 1000 },
    );
  });

  it('byte flips targeted at the length prefix and JSON', () => {
    fc.assert(
      fc.property(validFileArb, headerFlipArb, (file, flips) => {
        const b = file.slice();
        for (const f of flips) if (b.length > 0) b[f.at % b.length] = f.value;
        parseOrFormatError(b);
      }),
      { numRuns: 1000 },
    );
  });

  it('random JSON headers with hostile values', () => {
    fc.assert(
      fc.property(jsonHeaderArb, fc.nat(80), (header, dataLength) => {
        parseOrFormatError(fileFromJson(JSON.stringify(header), dataLength));
      }),
      { numRuns: 1000 },
    );
  });

  it('any JSON value or raw bytes as the header', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.jsonValue().map((v) => new TextEncoder().encode(JSON.stringify(v) ?? 'null')),
          fc.uint8Array({ maxLength: 64 }),
        ),
        fc.nat(16),
        (json, dataLength) => {
          const out = new Uint8Array(8 + json.length + dataLength);
          new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
          out.set(json, 8);
          parseOrFormatError(out);
        },
      ),
      { numRuns: 600 },
    );
  });
});

describe('fuzz: SafetensorsFile.open on mutated files', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'st-fuzz-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('opens or throws SafetensorsFormatError, and reads every tensor it accepted', async () => {
    let i = 0;
    await fc.assert(
      fc.asyncProperty(validFileArb, fc.array(mutationArb, { maxLength: 3 }), async (file, muts) => {
        const bytes = mutate(file, muts);
        const path = join(dir, `f${i++}.safetensors`);
        await writeFile(path, bytes);
        let f: SafetensorsFile;
        try {
          f = await SafetensorsFile.open(path);
        } catch (e) {
          if (!(e instanceof SafetensorsFormatError)) throw e;
          return;
        }
        try {
          checkInvariants(f.header, bytes.length);
          for (const name of f.names()) {
            const t = f.info(name);
            expect(await f.readBytes(name)).toEqual(
              bytes.subarray(f.header.dataOffset + t.begin, f.header.dataOffset + t.end),
            );
          }
        } finally {
          await f.close();
        }
      }),
      { numRuns: 100 },
    );
  });
});
