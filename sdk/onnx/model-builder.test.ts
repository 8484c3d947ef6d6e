import ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { decodeModel, encodeModel, initializer, node, tensorValueInfo } from './model-builder.js';

describe('model-builder', () => {
  it('round-trips symbolic dims, attributes, initializers and opsets', () => {
    const bytes = encodeModel({
      graph: {
        name: 'g',
        inputs: [tensorValueInfo('X', 'float32', ['M', 4])],
        outputs: [tensorValueInfo('Y', 'float32', ['M', 4])],
        nodes: [node('Add', ['X', 'W'], ['Y'], { alpha: 0.5, axes: [1, 2], mode: 'x', one: { float: 1 } })],
        initializers: [initializer('W', new Float32Array([1, 2, 3, 4]), [4])],
      },
      opsetImports: [
        { domain: '', version: 17 },
        { domain: 'com.microsoft', version: 1 },
      ],
    });
    const m = decodeModel(bytes) as {
      irVersion: number;
      opsetImport: { domain?: string; version: number }[];
      graph: {
        input: { type: { tensorType: { elemType: number; shape: { dim: Record<string, unknown>[] } } } }[];
        node: { attribute: { name: string; type: number; f?: number; i?: number; ints?: number[] }[] }[];
        initializer: { dataType: number; dims: number[]; rawData: number[] }[];
      };
    };
    expect(m.irVersion).toBe(8);
    expect(m.opsetImport[1]).toEqual({ domain: 'com.microsoft', version: 1 });
    expect(m.graph.input[0].type.tensorType.shape.dim).toEqual([{ dimParam: 'M' }, { dimValue: 4 }]);
    const attrs = Object.fromEntries(m.graph.node[0].attribute.map((a) => [a.name, a]));
    expect(attrs.alpha).toMatchObject({ type: 1, f: 0.5 });
    expect(attrs.axes).toMatchObject({ type: 7, ints: [1, 2] });
    expect(attrs.mode.type).toBe(3);
    expect(attrs.one).toMatchObject({ type: 1, f: 1 });
    expect(m.graph.initializer[0].dataType).toBe(1);
    expect(m.graph.initializer[0].rawData.length).toBe(16);
  });

  it('builds a model onnxruntime runs (initializer + symbolic batch)', async () => {
    const bytes = encodeModel({
      graph: {
        name: 'add',
        inputs: [tensorValueInfo('X', 'float64', ['B', 3])],
        outputs: [tensorValueInfo('Y', 'float64', ['B', 3])],
        nodes: [node('Add', ['X', 'W'], ['Y'])],
        initializers: [initializer('W', new Float64Array([10, 20, 30]), [3])],
      },
    });
    const session = await ort.InferenceSession.create(bytes);
    const out = await session.run({
      X: new ort.Tensor('float64', new Float64Array([1, 2, 3, 4, 5, 6]), [2, 3]),
    });
    expect(Array.from(out.Y.data as Float64Array)).toEqual([11, 22, 33, 14, 25, 36]);
    await session.release();
  });
});

describe('embedded schema', () => {
  it('matches sdk/onnx/onnx.proto', async () => {
    const { readFile } = await import('node:fs/promises');
    const { ONNX_PROTO_SOURCE } = await import('./onnx-proto-source.js');
    expect(ONNX_PROTO_SOURCE).toBe(await readFile(new URL('./onnx.proto', import.meta.url), 'utf8'));
  });
});
