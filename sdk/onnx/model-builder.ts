/**
 * Small typed helpers to build an ONNX `ModelProto` and encode it to bytes, without the Python
 * toolchain. deltahub builds its graphs at run time (a one-node `Gemm` for linear algebra today,
 * a whole Llama graph with `com.microsoft` ops such as `MatMulNBits` later), so the builder is
 * data-in, bytes-out: no file I/O, no graph checking beyond what protobuf encoding enforces.
 *
 * The schema is `sdk/onnx/onnx.proto`, a field-number-compatible subset of upstream onnx.proto.
 *
 * @example
 * ```ts
 * const bytes = encodeModel({
 *   graph: {
 *     name: 'gemm',
 *     inputs: [tensorValueInfo('A', 'float32', ['M', 'K']), tensorValueInfo('B', 'float32', ['K', 'N'])],
 *     outputs: [tensorValueInfo('Y', 'float32', ['M', 'N'])],
 *     nodes: [node('Gemm', ['A', 'B'], ['Y'], { transA: 0, transB: 1 })],
 *   },
 * });
 * const session = await InferenceSession.create(bytes);
 * ```
 */
import protobuf from 'protobufjs';
import { ONNX_PROTO_SOURCE } from './onnx-proto-source.js';

/** Element types deltahub writes; values are `onnx.TensorProto.DataType`. */
export const OnnxDataType = {
  float32: 1,
  uint8: 2,
  int8: 3,
  uint16: 4,
  int16: 5,
  int32: 6,
  int64: 7,
  bool: 9,
  float16: 10,
  float64: 11,
  uint32: 12,
  uint64: 13,
  bfloat16: 16,
} as const;
export type OnnxElementType = keyof typeof OnnxDataType;

/** A dimension: a fixed size, or a symbolic name (`'M'`) that ORT resolves per run. */
export type OnnxDim = number | string;

/** Attribute values; the ONNX attribute type is inferred (see {@link node}). */
export type OnnxAttributeValue =
  | number
  | string
  | number[]
  | string[]
  | { float: number }
  | { floats: number[] };

export interface OnnxValueInfo {
  name: string;
  elemType: number;
  dims: OnnxDim[];
}

export interface OnnxNode {
  opType: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  /** '' (default ONNX domain) or e.g. 'com.microsoft'. */
  domain?: string;
  attributes?: Record<string, OnnxAttributeValue>;
}

export interface OnnxInitializer {
  name: string;
  elemType: number;
  dims: number[];
  /** Little-endian raw bytes, exactly product(dims) elements. */
  rawData: Uint8Array;
}

export interface OnnxGraph {
  name: string;
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
  nodes: OnnxNode[];
  initializers?: OnnxInitializer[];
}

export interface OnnxModel {
  graph: OnnxGraph;
  /** Default: `[{ domain: '', version: 17 }]`; add `{ domain: 'com.microsoft', version: 1 }` for contrib ops. */
  opsetImports?: { domain: string; version: number }[];
  /** Default 8 (ONNX 1.13+, what opset 17 needs). */
  irVersion?: number;
  producerName?: string;
  producerVersion?: string;
}

/** Graph input/output description with symbolic or fixed dims. */
export function tensorValueInfo(name: string, type: OnnxElementType, dims: OnnxDim[]): OnnxValueInfo {
  return { name, elemType: OnnxDataType[type], dims };
}

/**
 * A node. Attribute types are inferred: integer number → INT, non-integer number → FLOAT,
 * string → STRING, number[] → INTS, string[] → STRINGS; use `{ float: 1 }` / `{ floats: [...] }`
 * to force FLOAT(S) for integral values (e.g. `alpha: { float: 1 }`).
 */
export function node(
  opType: string,
  inputs: string[],
  outputs: string[],
  attributes?: Record<string, OnnxAttributeValue>,
  options?: { name?: string; domain?: string },
): OnnxNode {
  return { opType, inputs, outputs, attributes, name: options?.name, domain: options?.domain };
}

type TypedArray =
  | Float32Array
  | Float64Array
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array;

/**
 * An initializer (constant tensor) from a typed array. `type` defaults from the array class;
 * pass it for float16/bfloat16 (Uint16Array bits) or packed 4-bit data (Uint8Array).
 * The bytes are viewed, not copied (x86/ARM are little-endian, as ONNX raw_data requires).
 */
export function initializer(
  name: string,
  data: TypedArray,
  dims: number[],
  type?: OnnxElementType,
): OnnxInitializer {
  const elemType = type !== undefined ? OnnxDataType[type] : defaultElemType(data);
  return { name, elemType, dims, rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

function defaultElemType(data: TypedArray): number {
  if (data instanceof Float32Array) return OnnxDataType.float32;
  if (data instanceof Float64Array) return OnnxDataType.float64;
  if (data instanceof Int8Array) return OnnxDataType.int8;
  if (data instanceof Uint8Array) return OnnxDataType.uint8;
  if (data instanceof Int16Array) return OnnxDataType.int16;
  if (data instanceof Uint16Array) return OnnxDataType.uint16;
  if (data instanceof Int32Array) return OnnxDataType.int32;
  if (data instanceof Uint32Array) return OnnxDataType.uint32;
  if (data instanceof BigInt64Array) return OnnxDataType.int64;
  return OnnxDataType.uint64;
}

let modelType: protobuf.Type | undefined;
/** Parsed once per process: the .proto is small, and parsing it is cheaper than shipping generated code. */
function modelProtoType(): protobuf.Type {
  if (modelType === undefined) {
    const text = ONNX_PROTO_SOURCE;
    modelType = protobuf.parse(text).root.lookupType('onnx.ModelProto');
  }
  return modelType;
}

const ATTR = { FLOAT: 1, INT: 2, STRING: 3, FLOATS: 6, INTS: 7, STRINGS: 8 } as const;

function attributeObject(name: string, value: OnnxAttributeValue): Record<string, unknown> {
  if (typeof value === 'number') {
    return Number.isInteger(value)
      ? { name, type: ATTR.INT, i: value }
      : { name, type: ATTR.FLOAT, f: value };
  }
  if (typeof value === 'string') return { name, type: ATTR.STRING, s: new TextEncoder().encode(value) };
  if (Array.isArray(value)) {
    if (value.length > 0 && typeof value[0] === 'string') {
      return {
        name,
        type: ATTR.STRINGS,
        strings: (value as string[]).map((s) => new TextEncoder().encode(s)),
      };
    }
    return { name, type: ATTR.INTS, ints: value as number[] };
  }
  if ('float' in value) return { name, type: ATTR.FLOAT, f: value.float };
  return { name, type: ATTR.FLOATS, floats: value.floats };
}

function valueInfoObject(v: OnnxValueInfo): Record<string, unknown> {
  return {
    name: v.name,
    type: {
      tensorType: {
        elemType: v.elemType,
        shape: { dim: v.dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

/** Plain object in protobufjs `fromObject` form (exposed for tests and debugging). */
export function modelObject(model: OnnxModel): Record<string, unknown> {
  const g = model.graph;
  return {
    irVersion: model.irVersion ?? 8,
    producerName: model.producerName ?? 'deltahub',
    producerVersion: model.producerVersion ?? '0',
    opsetImport: model.opsetImports ?? [{ domain: '', version: 17 }],
    graph: {
      name: g.name,
      input: g.inputs.map(valueInfoObject),
      output: g.outputs.map(valueInfoObject),
      node: g.nodes.map((n, i) => ({
        opType: n.opType,
        input: n.inputs,
        output: n.outputs,
        name: n.name ?? `${n.opType}_${i}`,
        domain: n.domain ?? '',
        attribute: Object.entries(n.attributes ?? {}).map(([k, v]) => attributeObject(k, v)),
      })),
      initializer: (g.initializers ?? []).map((t) => ({
        name: t.name,
        dims: t.dims,
        dataType: t.elemType,
        rawData: t.rawData,
      })),
    },
  };
}

/** Encodes a model to ONNX protobuf bytes, ready for `InferenceSession.create(bytes)`. */
export function encodeModel(model: OnnxModel): Uint8Array {
  const Model = modelProtoType();
  return Model.encode(Model.fromObject(modelObject(model))).finish();
}

/** Decodes bytes back to a plain object (tests use it to check what was written). */
export function decodeModel(bytes: Uint8Array): Record<string, unknown> {
  const Model = modelProtoType();
  return Model.toObject(Model.decode(bytes), { longs: Number, bytes: Array, defaults: false });
}
