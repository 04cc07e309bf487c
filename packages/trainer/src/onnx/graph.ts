import type { AttributeValue, OnnxNode, OnnxTensor } from './proto.js';

/**
 * @internal A value flowing through the exported graph: its ONNX name and its per-sample shape
 * (the dynamic batch dimension left out).
 */
export interface GraphValue {
  readonly name: string;
  readonly shape: readonly number[];
}

/** @internal Collects nodes and initializers under unique names. */
export class GraphBuilder {
  readonly nodes: OnnxNode[] = [];
  readonly initializers: OnnxTensor[] = [];
  private readonly used = new Set<string>();

  constructor(reserved: readonly string[] = []) {
    for (const r of reserved) this.used.add(r);
  }

  /** `base`, or `base_1`, `base_2`, ... when taken. */
  fresh(base: string): string {
    let name = base;
    for (let i = 1; this.used.has(name); i++) name = `${base}_${i}`;
    this.used.add(name);
    return name;
  }

  /** A float32 initializer; returns its name. */
  floats(base: string, dims: readonly number[], values: Float32Array | readonly number[]): string {
    const name = this.fresh(base);
    this.initializers.push({ name, dims, type: 'float32', values });
    return name;
  }

  /** A float32 scalar initializer (dims `[]`); returns its name. */
  scalar(base: string, value: number): string {
    return this.floats(base, [], [value]);
  }

  /** A 1-D int64 initializer (a shape for Reshape); returns its name. */
  int64s(base: string, values: readonly number[]): string {
    const name = this.fresh(base);
    this.initializers.push({ name, dims: [values.length], type: 'int64', values });
    return name;
  }

  /** A node with one output named after `base`; returns the output's name. */
  node(
    opType: string,
    inputs: readonly string[],
    base: string,
    attributes: Readonly<Record<string, AttributeValue>> = {},
  ): string {
    const output = this.fresh(base);
    this.nodes.push({ opType, inputs, outputs: [output], name: this.fresh(`${base}/${opType}`), attributes });
    return output;
  }
}
