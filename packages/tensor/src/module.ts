import { formatShape, ShapeError, shapesEqual, ValueError } from '@gradkit/kernels';
import { Parameter } from './parameter.js';
import { keep } from './scope.js';
import { Tensor } from './tensor.js';

/**
 * How a state dict entry is stored outside gradkit: `'float32'` (the default) or `'int64'`, an
 * integer count such as BatchNorm's `num_batches_tracked` (PyTorch's `torch.long`). In memory the
 * values are float32 either way (exact integers up to 2^24); the dtype tells a file writer (e.g.
 * safetensors `I64`) how to store them.
 *
 * @example
 * ```ts
 * const dtype: StateDtype = bn.stateDict().num_batches_tracked.dtype ?? 'float32'; // 'int64'
 * ```
 */
export type StateDtype = 'float32' | 'int64';

/** One entry of a {@link StateDict}: a shape, row-major values and, for integer entries, a dtype. */
export interface StateEntry {
  /** The tensor's shape. */
  readonly shape: readonly number[];
  /** Its values, row-major (a copy read from the device); integers for an `'int64'` entry. */
  readonly data: Float32Array;
  /**
   * The dtype it is stored with (absent: `'float32'`); `'int64'` for integer buffers registered
   * with `registerBuffer(name, t, { dtype: 'int64' })`. {@link Module.loadStateDict} accepts either
   * for any tensor, as PyTorch's `load_state_dict` copies across dtypes.
   */
  readonly dtype?: StateDtype;
}

/** Parameters and persistent buffers by dotted name (`layers.0.weight`), as PyTorch's `state_dict`. */
export type StateDict = Record<string, StateEntry>;

/** Options of {@link Module.loadStateDict}. */
export interface LoadStateDictOptions {
  /** Require exactly the module's keys: missing or unexpected keys are an error (default true). */
  readonly strict?: boolean;
}

/** What {@link Module.loadStateDict} did not match (empty lists in strict mode). */
export interface LoadStateDictResult {
  /** Parameters and buffers of the module that the state dict has no entry for (left as they are). */
  readonly missingKeys: readonly string[];
  /** Entries of the state dict that name nothing in the module (ignored). */
  readonly unexpectedKeys: readonly string[];
}

/** Options of {@link Module.registerBuffer}. */
export interface BufferOptions {
  /** Part of the state dict (default true), as PyTorch's `persistent`. */
  readonly persistent?: boolean;
  /**
   * The dtype of its state dict entry (default `'float32'`): `'int64'` for a count held on the
   * device as float32 (exact up to 2^24) but saved as an integer, as PyTorch's `torch.long`
   * buffers (BatchNorm's `num_batches_tracked`).
   */
  readonly dtype?: StateDtype;
}

/** A module of any signature, as a child of another. */
export type AnyModule = Module<never, unknown>;

function checkName(op: string, name: string): void {
  if (typeof name !== 'string' || name === '' || name.includes('.')) {
    throw new ValueError(op, `name must be a non-empty string without '.', got ${JSON.stringify(name)}`);
  }
}

/**
 * Base class of layers and models, as PyTorch's `nn.Module`: parameters, buffers and child
 * modules are registered explicitly (`registerParameter`, `registerBuffer`, `registerModule`),
 * which fixes their names and order; fields are not discovered. Names are dotted paths
 * (`layers.0.weight`). Subclasses implement {@link Module.forward}.
 *
 * Registered parameters and buffers belong to the module: no scope disposes them, and
 * {@link Module.dispose} disposes them all. Registering a name again replaces (and disposes) the
 * previous tensor or module.
 *
 * @typeParam In the argument list of `forward` (default `[Tensor]`).
 * @typeParam Out what `forward` returns (default `Tensor`).
 * @example
 * ```ts
 * class Mlp extends Module {
 *   readonly w1 = this.registerParameter('w1', randn([16, 8], { std: 0.3 }));
 *   readonly b1 = this.registerParameter('b1', zeros([16]));
 *   readonly w2 = this.registerParameter('w2', randn([3, 16], { std: 0.3 }));
 *   readonly b2 = this.registerParameter('b2', zeros([3]));
 *   forward(x: Tensor): Tensor {
 *     return linear(linear(x, this.w1, this.b1, { activation: 'relu' }), this.w2, this.b2);
 *   }
 * }
 * const model = new Mlp();
 * model.namedParameters().map(([n]) => n); // ['w1', 'b1', 'w2', 'b2']
 * ```
 */
export abstract class Module<In extends unknown[] = [Tensor], Out = Tensor> {
  private _training = true;
  private readonly _parameters = new Map<string, Parameter>();
  private readonly _buffers = new Map<string, { tensor: Tensor; persistent: boolean; dtype: StateDtype }>();
  private readonly _modules = new Map<string, AnyModule>();

  /** The computation of the module. */
  abstract forward(...args: In): Out;

  /** True in training mode (the default), false after {@link Module.eval}. */
  get training(): boolean {
    return this._training;
  }

  private checkFree(op: string, name: string, kind: 'parameter' | 'buffer' | 'module'): void {
    checkName(op, name);
    const taken =
      (kind !== 'parameter' && this._parameters.has(name) && 'a parameter') ||
      (kind !== 'buffer' && this._buffers.has(name) && 'a buffer') ||
      (kind !== 'module' && this._modules.has(name) && 'a module');
    if (taken) throw new ValueError(op, `'${name}' is already ${taken}`);
  }

  /**
   * Registers a parameter under `name` and returns it. A plain tensor is turned into a
   * {@link Parameter}: the module takes it over (its buffer moves to the Parameter and the tensor
   * itself is disposed), so `registerParameter('w', randn([3, 4]))` leaves nothing behind.
   */
  registerParameter(name: string, value: Parameter | Tensor): Parameter {
    const op = 'registerParameter';
    this.checkFree(op, name, 'parameter');
    if (!(value instanceof Tensor)) throw new ValueError(op, `'${name}' must be a Tensor or Parameter`);
    let p: Parameter;
    if (value instanceof Parameter) p = value;
    else {
      p = new Parameter(value);
      value.dispose();
    }
    const old = this._parameters.get(name);
    if (old && old !== p) old.dispose();
    this._parameters.set(name, p);
    return p;
  }

  /**
   * Registers a buffer (state that is not trained, e.g. running statistics) under `name`; it is
   * exempted from scopes ({@link keep}) and, unless `persistent: false`, saved in the state dict
   * (with `dtype: 'int64'` marked as an integer entry). Update it with `assign`.
   */
  registerBuffer(name: string, value: Tensor, options: BufferOptions = {}): Tensor {
    const op = 'registerBuffer';
    this.checkFree(op, name, 'buffer');
    if (!(value instanceof Tensor)) throw new ValueError(op, `'${name}' must be a Tensor`);
    const dtype = options.dtype ?? 'float32';
    if (dtype !== 'float32' && dtype !== 'int64')
      throw new ValueError(op, `'${name}': dtype must be 'float32' or 'int64', got ${JSON.stringify(dtype)}`);
    value._arrayFor(op);
    keep(value);
    const old = this._buffers.get(name);
    if (old && old.tensor !== value) old.tensor.dispose();
    this._buffers.set(name, { tensor: value, persistent: options.persistent ?? true, dtype });
    return value;
  }

  /** Registers a child module under `name` (its names get the prefix `name.`) and returns it. */
  registerModule<M extends AnyModule>(name: string, module: M): M {
    const op = 'registerModule';
    this.checkFree(op, name, 'module');
    if (!(module instanceof Module)) throw new ValueError(op, `'${name}' must be a Module`);
    if ((module as AnyModule) === (this as unknown as AnyModule))
      throw new ValueError(op, 'a module cannot contain itself');
    this._modules.set(name, module);
    return module;
  }

  /** Direct children, by name. */
  namedChildren(): [string, AnyModule][] {
    return [...this._modules];
  }

  /** Every module of the tree, this one first (name `''`), depth first, each module once. */
  namedModules(prefix = ''): [string, AnyModule][] {
    const out: [string, AnyModule][] = [];
    const seen = new Set<AnyModule>();
    const walk = (m: AnyModule, name: string): void => {
      if (seen.has(m)) return;
      seen.add(m);
      out.push([name, m]);
      for (const [k, c] of (m as Module<never, unknown>)._modules) walk(c, name ? `${name}.${k}` : k);
    };
    walk(this as unknown as AnyModule, prefix);
    return out;
  }

  /**
   * Every parameter with its dotted name (`layers.0.weight`), depth first in registration order;
   * a parameter shared by two modules is listed once.
   */
  namedParameters(): [string, Parameter][] {
    const out: [string, Parameter][] = [];
    const seen = new Set<Parameter>();
    for (const [prefix, m] of this.namedModules()) {
      for (const [k, p] of m._parameters) {
        if (seen.has(p)) continue;
        seen.add(p);
        out.push([prefix ? `${prefix}.${k}` : k, p]);
      }
    }
    return out;
  }

  /** Every parameter (see {@link Module.namedParameters}). */
  parameters(): Parameter[] {
    return this.namedParameters().map(([, p]) => p);
  }

  /** Every buffer with its dotted name, persistent or not. */
  namedBuffers(): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [prefix, m] of this.namedModules()) {
      for (const [k, b] of m._buffers) out.push([prefix ? `${prefix}.${k}` : k, b.tensor]);
    }
    return out;
  }

  /** Every buffer. */
  buffers(): Tensor[] {
    return this.namedBuffers().map(([, b]) => b);
  }

  /** Sets training mode on this module and every descendant; returns this. */
  train(mode = true): this {
    for (const [, m] of this.namedModules()) m._training = mode;
    return this;
  }

  /** Evaluation mode: `train(false)`. Returns this. */
  eval(): this {
    return this.train(false);
  }

  /** Sets `.grad` of every parameter to null (disposing it), as PyTorch's `zero_grad(set_to_none=True)`. */
  zeroGrad(): void {
    for (const p of this.parameters()) p.grad = null;
  }

  /**
   * Every state dict entry as [name, tensor, dtype]: parameters, then persistent buffers, per
   * module (PyTorch's order).
   */
  private stateTensors(): [string, Tensor, StateDtype][] {
    const out: [string, Tensor, StateDtype][] = [];
    for (const [prefix, m] of this.namedModules()) {
      const name = (k: string) => (prefix ? `${prefix}.${k}` : k);
      for (const [k, p] of m._parameters) out.push([name(k), p, 'float32']);
      for (const [k, b] of m._buffers) if (b.persistent) out.push([name(k), b.tensor, b.dtype]);
    }
    return out;
  }

  /** A state dict entry: shape, values and the dtype when it is not float32. */
  private static entry(t: Tensor, data: Float32Array, dtype: StateDtype): StateEntry {
    return dtype === 'float32' ? { shape: [...t.shape], data } : { shape: [...t.shape], data, dtype };
  }

  /**
   * The parameters and persistent buffers by dotted name, with shapes and copies of the values
   * (one read-back each), in PyTorch's order: per module (depth first), its parameters, then its
   * persistent buffers. Integer buffers carry `dtype: 'int64'`.
   *
   * @example
   * ```ts
   * const sd = model.stateDict(); // { 'w1': { shape: [16, 8], data: Float32Array(128) }, ... }
   * ```
   */
  stateDict(): StateDict {
    const out: StateDict = {};
    for (const [k, t, dtype] of this.stateTensors()) out[k] = Module.entry(t, t.dataSync(), dtype);
    return out;
  }

  /** {@link Module.stateDict} with awaitable read-backs. */
  async stateDictAsync(): Promise<StateDict> {
    const entries = this.stateTensors();
    const data = await Promise.all(entries.map(([, t]) => t.data()));
    const out: StateDict = {};
    entries.forEach(([k, t, dtype], i) => {
      out[k] = Module.entry(t, data[i], dtype);
    });
    return out;
  }

  /**
   * Loads values from a state dict, as PyTorch's `load_state_dict`. Everything is checked before
   * anything is written: each entry's shape must equal the module's (a {@link ShapeError} naming
   * the key and both shapes), its data must have that many values, and in strict mode (default)
   * the keys must match exactly (a {@link ValueError} listing missing and unexpected keys).
   * An entry's `dtype` is not checked (a float32 value loads into an integer buffer and back, as
   * PyTorch copies across dtypes). Gradients are left as they are.
   *
   * @example
   * ```ts
   * other.loadStateDict(model.stateDict());
   * const { missingKeys } = other.loadStateDict(partial, { strict: false });
   * ```
   */
  loadStateDict(dict: StateDict, options: LoadStateDictOptions = {}): LoadStateDictResult {
    const op = 'loadStateDict';
    const { strict = true } = options;
    if (typeof dict !== 'object' || dict === null) throw new ValueError(op, 'expected a state dict object');
    const entries = this.stateTensors();
    const expected = new Set(entries.map(([k]) => k));
    const missingKeys = entries.filter(([k]) => !Object.hasOwn(dict, k)).map(([k]) => k);
    const unexpectedKeys = Object.keys(dict).filter((k) => !expected.has(k));
    if (strict && (missingKeys.length > 0 || unexpectedKeys.length > 0)) {
      const parts: string[] = [];
      if (missingKeys.length) parts.push(`missing keys: ${missingKeys.join(', ')}`);
      if (unexpectedKeys.length) parts.push(`unexpected keys: ${unexpectedKeys.join(', ')}`);
      throw new ValueError(op, `the state dict does not match the module (${parts.join('; ')})`);
    }
    const updates: [Tensor, Float32Array][] = [];
    for (const [k, t] of entries) {
      if (!Object.hasOwn(dict, k)) continue;
      const e = dict[k];
      if (typeof e !== 'object' || e === null || !Array.isArray(e.shape)) {
        throw new ValueError(op, `'${k}' must be an entry { shape, data }`);
      }
      if (!shapesEqual(e.shape, t.shape)) {
        throw new ShapeError(
          op,
          `'${k}' has shape ${formatShape(e.shape)} in the state dict, the module expects ${formatShape(t.shape)}`,
          [e.shape, t.shape],
        );
      }
      const data = e.data as ArrayLike<number> | undefined;
      if (!data || typeof data.length !== 'number' || data.length !== t.size) {
        throw new ValueError(
          op,
          `'${k}' has ${data?.length ?? 'no'} values, shape ${formatShape(t.shape)} needs ${t.size}`,
        );
      }
      t._arrayFor(op);
      updates.push([t, data instanceof Float32Array ? data : Float32Array.from(data)]);
    }
    for (const [t, data] of updates) t._replaceArray(t.device.array(data, t.shape));
    return { missingKeys, unexpectedKeys };
  }

  /** Disposes every parameter and buffer of the tree (and their gradients). */
  dispose(): void {
    for (const [, m] of this.namedModules()) {
      for (const p of m._parameters.values()) p.dispose();
      for (const b of m._buffers.values()) b.tensor.dispose();
    }
  }
}

/**
 * A list of modules registered under `'0'`, `'1'`, ... so that their parameters are named
 * `layers.0.weight` when the list is registered as `layers`. Its `forward` applies the modules in
 * order (each must take and return one tensor).
 *
 * @example
 * ```ts
 * const layers = this.registerModule('layers', new ModuleList([new Dense(8, 16), new Dense(16, 3)]));
 * ```
 */
export class ModuleList extends Module<[Tensor], Tensor> {
  private readonly items: Module<[Tensor], Tensor>[] = [];

  constructor(modules: readonly Module<[Tensor], Tensor>[] = []) {
    super();
    for (const m of modules) this.append(m);
  }

  /** Appends a module (named by its index) and returns this. */
  append(module: Module<[Tensor], Tensor>): this {
    this.registerModule(String(this.items.length), module);
    this.items.push(module);
    return this;
  }

  /** The module at `index`. */
  at(index: number): Module<[Tensor], Tensor> | undefined {
    return this.items.at(index);
  }

  /** Number of modules. */
  get length(): number {
    return this.items.length;
  }

  /** Iterates over the modules in order (`for (const m of list)`). */
  [Symbol.iterator](): Iterator<Module<[Tensor], Tensor>> {
    return this.items[Symbol.iterator]();
  }

  /** Applies the modules in order. */
  forward(x: Tensor): Tensor {
    let h = x;
    for (const m of this.items) h = m.forward(h);
    return h;
  }
}
