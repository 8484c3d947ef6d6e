import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeLlamaFixturePair } from '../../scripts/fixtures/llama-fixture.js';
import { compressCheckpoint } from '../../sdk/compress/compress-checkpoint.js';
import { DeltahubError } from '../../sdk/errors/errors.js';
import { parseDeltaHeader } from '../../sdk/format/delta-header.js';
import { parseSafetensorsBuffer } from '../../sdk/safetensors/header.js';
import { buildSafetensorsHeader } from '../../sdk/safetensors/header-writer.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const TYPED = new Set(['SAFETENSORS_FORMAT', 'DELTA_FORMAT', 'UNSUPPORTED_FORMAT_VERSION']);

/** Parses like the registry does on an upload: safetensors prefix, then the delta rules. */
function parseDelta(bytes: Uint8Array): unknown {
  return parseDeltaHeader(parseSafetensorsBuffer(bytes));
}

function expectOnlyTypedErrors(bytes: Uint8Array): void {
  try {
    parseDelta(bytes);
  } catch (e) {
    if (!(e instanceof DeltahubError) || !TYPED.has(e.code)) throw e;
  }
}

/** Any JSON value, to splice into the manifest in place of a real field. */
const jsonValue = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.string(),
  fc.constant(null),
  fc.boolean(),
  fc.array(fc.integer({ min: -5, max: 1 << 20 }), { maxLength: 4 }),
  fc.dictionary(fc.string({ maxLength: 4 }), fc.integer(), { maxKeys: 2 }),
);

describe('delta parser under fuzzing', () => {
  let cleanup: () => Promise<void>;
  let file: Uint8Array;
  let manifest: Record<string, unknown>;
  let tensors: { name: string; dtype: 'U8' | 'F16' | 'F32'; shape: number[] }[];

  beforeAll(async () => {
    const tmp = await makeTempDir();
    cleanup = tmp.cleanup;
    const pair = await makeLlamaFixturePair(join(tmp.dir, 'fx'), {
      hiddenSize: 64,
      intermediateSize: 128,
      numLayers: 1,
      numHeads: 2,
      numKvHeads: 1,
      vocabSize: 32,
    });
    const out = join(tmp.dir, 'd.safetensors');
    await compressCheckpoint({ ...pair, outPath: out, ratio: 1 / 8 });
    file = new Uint8Array(await readFile(out));
    const header = parseSafetensorsBuffer(file);
    manifest = JSON.parse(header.metadata.manifest);
    tensors = header.tensors.map((t) => ({ name: t.name, dtype: t.dtype as 'U8', shape: t.shape }));
  }, 60_000);
  afterAll(() => cleanup());

  it('accepts the unmutated file', () => {
    expect(() => parseDelta(file)).not.toThrow();
  });

  it('random byte flips and truncations give typed errors only', () => {
    const headerEnd = 8 + Number(new DataView(file.buffer, file.byteOffset).getBigUint64(0, true));
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat({ max: headerEnd - 1 }), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 8,
        }),
        fc.option(fc.nat({ max: file.length }), { nil: undefined }),
        (flips, cut) => {
          const bytes = file.slice(0, cut ?? file.length);
          for (const [at, value] of flips) if (at < bytes.length) bytes[at] = value;
          expectOnlyTypedErrors(bytes);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('manifest field replacements give typed errors only', () => {
    const paths: string[][] = [];
    const walk = (v: unknown, path: string[]) => {
      if (path.length > 0) paths.push(path);
      if (v && typeof v === 'object' && path.length < 6) {
        for (const [k, child] of Object.entries(v as Record<string, unknown>).slice(0, 12))
          walk(child, [...path, k]);
      }
    };
    walk(manifest, []);
    fc.assert(
      fc.property(fc.constantFrom(...paths), jsonValue, (path, value) => {
        const m = structuredClone(manifest);
        let target = m as Record<string, unknown>;
        for (const k of path.slice(0, -1)) target = target[k] as Record<string, unknown>;
        target[path[path.length - 1]] = value;
        const { bytes: header, dataLength } = buildSafetensorsHeader(tensors, {
          format: 'deltahub.delta',
          manifest: JSON.stringify(m),
        });
        const rebuilt = new Uint8Array(header.length + dataLength);
        rebuilt.set(header);
        rebuilt.set(file.subarray(file.length - dataLength), header.length);
        expectOnlyTypedErrors(rebuilt);
      }),
      { numRuns: 400 },
    );
  });
});
