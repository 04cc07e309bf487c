import { keep, Tensor, tensor, ValueError } from '@gradkit/tensor';

/**
 * A tensor saved in a state dict: its shape and row-major float32 values. `data` is a
 * `Float32Array` when it comes from `stateDict()` (serialized as a plain array by
 * `JSON.stringify`), and may be a plain number array when read back from JSON.
 */
export interface SerializedTensor {
  /** The tensor's shape. */
  readonly shape: readonly number[];
  /** The values, row-major; `shape.reduce((a, b) => a * b, 1)` of them. */
  readonly data: Float32Array | readonly number[];
}

/** A JSON value: what {@link serializeState} produces. */
export type JsonValue =
  | number
  | string
  | boolean
  | null
  | SerializedTensor
  | JsonValue[]
  | { [key: string]: JsonValue };

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function walk(value: unknown, out: Set<Tensor>, seen: Set<unknown>): void {
  if (value instanceof Tensor) {
    out.add(value);
    return;
  }
  if (typeof value !== 'object' || value === null || seen.has(value)) return;
  seen.add(value);
  if (Array.isArray(value)) for (const v of value) walk(v, out, seen);
  else if (isPlainObject(value)) for (const v of Object.values(value)) walk(v, out, seen);
}

/**
 * Every tensor in a state (or update) tree: tensors inside arrays and plain objects, at any depth.
 *
 * @example
 * ```ts
 * tensorsOf({ count: 1, slots: { m: { w: m } } }); // Set { m }
 * ```
 * @see {@link serializeState} for checkpoints of a state
 */
export function tensorsOf(tree: unknown): Set<Tensor> {
  const out = new Set<Tensor>();
  walk(tree, out, new Set());
  return out;
}

/**
 * Disposes the tensors of an old transformation state that the new state does not reuse, and
 * returns the new state: the bookkeeping of the functional loop (`update` never disposes its
 * inputs, and a new state may keep tensors of the old one).
 *
 * @example
 * ```ts
 * const [updates, next] = tx.update(grads, state, params);
 * applyUpdates(params, updates);
 * state = releaseState(state, next);
 * ```
 * @see {@link serializeState} for checkpoints of a state
 */
export function releaseState<S>(old: unknown, next: S): S {
  const keepSet = tensorsOf(next);
  for (const t of tensorsOf(old)) if (!keepSet.has(t)) t.dispose();
  return next;
}

/**
 * Disposes every tensor of a state tree (when an optimizer is dropped).
 *
 * @example
 * ```ts
 * disposeState(state);
 * ```
 * @see {@link serializeState} for checkpoints of a state
 */
export function disposeState(state: unknown): void {
  for (const t of tensorsOf(state)) t.dispose();
}

/** A copy of `data` whose `JSON.stringify` form is a plain number array. @internal */
export function jsonFloat32(data: Float32Array): Float32Array {
  Object.defineProperty(data, 'toJSON', { value: () => Array.from(data), enumerable: false });
  return data;
}

/** Serializes one tensor (one read-back). @internal */
export function serializeTensor(t: Tensor): SerializedTensor {
  return { shape: [...t.shape], data: jsonFloat32(t.dataSync()) };
}

/**
 * A new (kept) tensor on `like`'s device from a serialized one, after checking that the shape is
 * `like`'s and that the values fill it.
 *
 * @internal
 * @throws {ValueError} naming `op` and `what` when the entry is malformed or the shape differs.
 */
export function deserializeTensor(op: string, what: string, entry: unknown, like: Tensor): Tensor {
  const e = entry as Partial<SerializedTensor> | null;
  if (typeof e !== 'object' || e === null || !Array.isArray(e.shape) || e.data === undefined) {
    throw new ValueError(op, `${what}: expected { shape, data }, got ${JSON.stringify(entry)?.slice(0, 80)}`);
  }
  const shape = e.shape as number[];
  if (shape.length !== like.shape.length || shape.some((d, i) => d !== like.shape[i])) {
    throw new ValueError(
      op,
      `${what}: shape [${shape.join(',')}] differs from the parameter's [${like.shape.join(',')}]`,
    );
  }
  const data = e.data instanceof Float32Array ? e.data : Float32Array.from(e.data as ArrayLike<number>);
  if (data.length !== like.size) {
    throw new ValueError(op, `${what}: ${data.length} values do not fill shape [${shape.join(',')}]`);
  }
  return keep(tensor(data, shape, { device: like.device }));
}

/**
 * The JSON form of a transformation state: tensors become `{ shape, data }` (one read-back each),
 * numbers, strings and booleans stay, arrays and plain objects are copied. Read it back with
 * {@link deserializeState}; resuming from it continues bit for bit.
 *
 * @example
 * ```ts
 * const json = JSON.stringify(serializeState(state));
 * ```
 * @see https://optax.readthedocs.io/en/latest/api/utilities.html (optax states are pytrees of arrays)
 */
export function serializeState(state: unknown): JsonValue {
  if (state instanceof Tensor) return serializeTensor(state);
  if (
    typeof state === 'number' ||
    typeof state === 'string' ||
    typeof state === 'boolean' ||
    state === null
  ) {
    return state;
  }
  if (Array.isArray(state)) return state.map(serializeState);
  if (isPlainObject(state)) {
    const out: Record<string, JsonValue> = {};
    for (const [k, v] of Object.entries(state)) if (v !== undefined) out[k] = serializeState(v);
    return out;
  }
  throw new ValueError('serializeState', `cannot serialize a ${typeof state} (${String(state)})`);
}

/**
 * Rebuilds a state from its {@link serializeState} form, with `template` (e.g. `tx.init(params)`)
 * giving the structure, the devices and the shapes: every tensor of the template is read from the
 * JSON (as a new kept tensor), every number from the JSON. Nothing is created when the JSON does
 * not match.
 *
 * @throws {ValueError} naming the path of the first mismatch.
 * @example
 * ```ts
 * const fresh = tx.init(params);
 * const state = deserializeState(JSON.parse(json), fresh);
 * disposeState(fresh);
 * ```
 * @see {@link serializeState}
 */
export function deserializeState<S>(json: unknown, template: S): S {
  const op = 'deserializeState';
  // Check everything first, then build: nothing is created on a mismatch.
  const check = (j: unknown, t: unknown, path: string): void => {
    if (t instanceof Tensor) {
      const e = j as Partial<SerializedTensor> | null;
      const shape = e?.shape;
      if (!Array.isArray(shape) || shape.length !== t.rank || shape.some((d, i) => d !== t.shape[i])) {
        throw new ValueError(op, `${path}: expected a tensor of shape [${t.shape.join(',')}]`);
      }
      if (!e?.data || (e.data as ArrayLike<number>).length !== t.size) {
        throw new ValueError(op, `${path}: expected ${t.size} values`);
      }
    } else if (Array.isArray(t)) {
      if (!Array.isArray(j) || j.length !== t.length)
        throw new ValueError(op, `${path}: expected an array of ${t.length}`);
      t.forEach((v, i) => {
        check(j[i], v, `${path}[${i}]`);
      });
    } else if (isPlainObject(t)) {
      if (!isPlainObject(j)) throw new ValueError(op, `${path}: expected an object`);
      for (const [k, v] of Object.entries(t)) if (v !== undefined) check(j[k], v, `${path}.${k}`);
    } else if (typeof t === 'number') {
      if (typeof j !== 'number')
        throw new ValueError(op, `${path}: expected a number, got ${JSON.stringify(j)}`);
    }
  };
  check(json, template, 'state');
  const build = (j: unknown, t: unknown): unknown => {
    if (t instanceof Tensor) return deserializeTensor(op, 'state', j, t);
    if (Array.isArray(t)) return t.map((v, i) => build((j as unknown[])[i], v));
    if (isPlainObject(t)) {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(t))
        out[k] = v === undefined ? v : build((j as Record<string, unknown>)[k], v);
      return out;
    }
    if (typeof t === 'number') return j;
    return t;
  };
  return build(json, template) as S;
}
