/**
 * @internal A minimal protocol-buffers writer for the few ONNX messages the exporter emits
 * (field numbers from `onnx/onnx.proto`, proto2). Browser-safe: no Node imports.
 *
 * Wire format: every field is a key `(fieldNumber << 3) | wireType` as a varint, then the value:
 * wire type 0 a varint (int64 and enums; negative int64 as its 64-bit two's complement, 10 bytes),
 * 2 a length-delimited byte string (strings as UTF-8, embedded messages, raw tensor data), 5 a
 * little-endian float32. Repeated scalars are written unpacked (one key per element), which every
 * proto2 parser reads.
 */

const VARINT = 0;
const LENGTH_DELIMITED = 2;
const FIXED32 = 5;

const utf8 = new TextEncoder();

/**
 * @internal A message under construction: a list of byte chunks and their total length, so
 * embedding a message (or a megabyte of weights) appends chunks instead of copying them.
 */
export class ProtoWriter {
  private readonly chunks: Uint8Array[] = [];
  private pending: number[] = [];
  private size = 0;

  /** Total bytes written so far. */
  get length(): number {
    return this.size + this.pending.length;
  }

  private flush(): void {
    if (this.pending.length === 0) return;
    this.chunks.push(Uint8Array.from(this.pending));
    this.size += this.pending.length;
    this.pending = [];
  }

  private rawVarint(value: number | bigint): void {
    let v = BigInt.asUintN(64, BigInt(value));
    while (v >= 0x80n) {
      this.pending.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.pending.push(Number(v));
  }

  private key(field: number, wireType: number): void {
    this.rawVarint((field << 3) | wireType);
  }

  /** An int64 / int32 / enum field (negative values as 64-bit two's complement). */
  int(field: number, value: number): this {
    if (!Number.isSafeInteger(value))
      throw new RangeError(`protobuf field ${field}: ${value} is not a safe integer`);
    this.key(field, VARINT);
    this.rawVarint(value);
    return this;
  }

  /** A float field (IEEE-754 single precision, little-endian). */
  float(field: number, value: number): this {
    this.key(field, FIXED32);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    this.pending.push(...b);
    return this;
  }

  /** A length-delimited field holding `bytes` (appended without a copy). */
  bytes(field: number, bytes: Uint8Array): this {
    this.key(field, LENGTH_DELIMITED);
    this.rawVarint(bytes.length);
    this.flush();
    this.chunks.push(bytes);
    this.size += bytes.length;
    return this;
  }

  /** A string field, UTF-8. */
  string(field: number, value: string): this {
    return this.bytes(field, utf8.encode(value));
  }

  /** An embedded message field (its chunks appended without a copy). */
  message(field: number, sub: ProtoWriter): this {
    sub.flush();
    this.key(field, LENGTH_DELIMITED);
    this.rawVarint(sub.size);
    this.flush();
    this.chunks.push(...sub.chunks);
    this.size += sub.size;
    return this;
  }

  /** The message's bytes, concatenated once. */
  finish(): Uint8Array {
    this.flush();
    const out = new Uint8Array(this.size);
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }
}

/** @internal `TensorProto.DataType` values used by the exporter. */
export const DataType = { FLOAT: 1, INT64: 7 } as const;

/** @internal `AttributeProto.AttributeType` values used by the exporter. */
const AttributeType = { FLOAT: 1, INT: 2, STRING: 3, INTS: 7 } as const;

/** @internal A tensor for an initializer: float32 or int64 values, row-major. */
export interface OnnxTensor {
  readonly name: string;
  readonly dims: readonly number[];
  readonly type: 'float32' | 'int64';
  readonly values: Float32Array | readonly number[];
}

/** @internal `TensorProto`: dims (1), data_type (2), name (8), raw_data (9, little-endian). */
export function tensorProto(t: OnnxTensor): ProtoWriter {
  const w = new ProtoWriter();
  for (const d of t.dims) w.int(1, d);
  let raw: Uint8Array;
  if (t.type === 'float32') {
    w.int(2, DataType.FLOAT);
    const values = t.values instanceof Float32Array ? t.values : Float32Array.from(t.values);
    raw = new Uint8Array(values.length * 4);
    const view = new DataView(raw.buffer);
    for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i], true);
  } else {
    w.int(2, DataType.INT64);
    raw = new Uint8Array(t.values.length * 8);
    const view = new DataView(raw.buffer);
    for (let i = 0; i < t.values.length; i++) view.setBigInt64(i * 8, BigInt(t.values[i]), true);
  }
  w.string(8, t.name);
  w.bytes(9, raw);
  return w;
}

/** @internal An attribute value: a float, an int, a list of ints, or a string. */
export type AttributeValue =
  | { readonly float: number }
  | { readonly int: number }
  | { readonly ints: readonly number[] }
  | { readonly string: string };

/** @internal `AttributeProto`: name (1), f (2), i (3), s (4), ints (8), type (20). */
export function attributeProto(name: string, value: AttributeValue): ProtoWriter {
  const w = new ProtoWriter().string(1, name);
  if ('float' in value) w.float(2, value.float).int(20, AttributeType.FLOAT);
  else if ('int' in value) w.int(3, value.int).int(20, AttributeType.INT);
  else if ('ints' in value) {
    for (const i of value.ints) w.int(8, i);
    w.int(20, AttributeType.INTS);
  } else w.string(4, value.string).int(20, AttributeType.STRING);
  return w;
}

/** @internal One graph node. */
export interface OnnxNode {
  readonly opType: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly name: string;
  readonly attributes?: Readonly<Record<string, AttributeValue>>;
}

/** @internal `NodeProto`: input (1), output (2), name (3), op_type (4), attribute (5). */
export function nodeProto(n: OnnxNode): ProtoWriter {
  const w = new ProtoWriter();
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  w.string(3, n.name).string(4, n.opType);
  for (const [k, v] of Object.entries(n.attributes ?? {})) w.message(5, attributeProto(k, v));
  return w;
}

/** @internal A float32 graph input or output: its name and dims (a string is a symbolic dim). */
export interface OnnxValueInfo {
  readonly name: string;
  readonly dims: readonly (number | string)[];
}

/**
 * @internal `ValueInfoProto` name (1), type (2) of a float tensor: `TypeProto.tensor_type` (1) ->
 * `Tensor` elem_type (1), shape (2) -> `TensorShapeProto.dim` (1) -> `dim_value` (1) or `dim_param` (2).
 */
export function valueInfoProto(v: OnnxValueInfo): ProtoWriter {
  const shape = new ProtoWriter();
  for (const d of v.dims) {
    const dim = new ProtoWriter();
    if (typeof d === 'string') dim.string(2, d);
    else dim.int(1, d);
    shape.message(1, dim);
  }
  const tensorType = new ProtoWriter().int(1, DataType.FLOAT).message(2, shape);
  const type = new ProtoWriter().message(1, tensorType);
  return new ProtoWriter().string(1, v.name).message(2, type);
}

/** @internal Everything a model file holds. */
export interface OnnxModel {
  readonly irVersion: number;
  readonly opset: number;
  readonly producerName: string;
  readonly producerVersion: string;
  readonly graphName: string;
  readonly docString: string;
  readonly metadata: Readonly<Record<string, string>>;
  readonly nodes: readonly OnnxNode[];
  readonly initializers: readonly OnnxTensor[];
  readonly inputs: readonly OnnxValueInfo[];
  readonly outputs: readonly OnnxValueInfo[];
}

/**
 * @internal `ModelProto`: ir_version (1), producer_name (2), producer_version (3), doc_string (6),
 * graph (7), opset_import (8: `OperatorSetIdProto` domain (1) '' and version (2)),
 * metadata_props (14: `StringStringEntryProto` key (1), value (2)). `GraphProto`: node (1),
 * name (2), initializer (5), input (11), output (12).
 */
export function modelProto(m: OnnxModel): Uint8Array {
  const graph = new ProtoWriter();
  for (const n of m.nodes) graph.message(1, nodeProto(n));
  graph.string(2, m.graphName);
  for (const t of m.initializers) graph.message(5, tensorProto(t));
  for (const i of m.inputs) graph.message(11, valueInfoProto(i));
  for (const o of m.outputs) graph.message(12, valueInfoProto(o));
  const model = new ProtoWriter().int(1, m.irVersion).string(2, m.producerName).string(3, m.producerVersion);
  if (m.docString) model.string(6, m.docString);
  model.message(7, graph);
  model.message(8, new ProtoWriter().string(1, '').int(2, m.opset));
  for (const [key, value] of Object.entries(m.metadata)) {
    model.message(14, new ProtoWriter().string(1, key).string(2, value));
  }
  return model.finish();
}
