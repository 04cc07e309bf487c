import { formatShape, ValueError } from '@gradkit/kernels';
import type { StateDict, StateDtype, StateEntry } from './module.js';

/**
 * One value of a {@link StateEntryJson}: a JSON number, or one of the strings that stand for the
 * numbers JSON cannot write: `'NaN'`, `'Infinity'`, `'-Infinity'` (only with
 * `allowNonFinite`) and `'-0'` (always: `JSON.stringify(-0)` would write `0`).
 *
 * @example
 * ```ts
 * const values: StateValueJson[] = [0.5, -2, '-0'];
 * ```
 */
export type StateValueJson = number | 'NaN' | 'Infinity' | '-Infinity' | '-0';

/**
 * A {@link StateEntry} in JSON form: the shape, the dtype when it is not float32, and the values
 * as a plain array (see {@link StateValueJson}).
 *
 * @example
 * ```ts
 * const entry: StateEntryJson = { shape: [2], data: [0.25, -1] };
 * ```
 */
export interface StateEntryJson {
  /** The tensor's shape. */
  readonly shape: readonly number[];
  /** The values, row-major; integers for an `'int64'` entry. */
  readonly data: readonly StateValueJson[];
  /** `'int64'` for an integer entry (absent: float32), as in the {@link StateEntry}. */
  readonly dtype?: StateDtype;
}

/**
 * A {@link StateDict} in JSON form: the same keys, each entry a {@link StateEntryJson}. It
 * survives `JSON.stringify` / `JSON.parse` unchanged (a `StateDict` does not: its
 * `Float32Array`s become objects of numbered keys).
 *
 * @example
 * ```ts
 * const json: StateDictJson = stateDictToJSON(model.stateDict());
 * localStorage.setItem('model', JSON.stringify(json));
 * ```
 */
export type StateDictJson = Record<string, StateEntryJson>;

/** Options of {@link stateDictToJSON}. */
export interface StateDictToJsonOptions {
  /**
   * Write NaN and infinities as the strings `'NaN'`, `'Infinity'` and `'-Infinity'` (default
   * false: a non-finite value is a {@link @gradkit/kernels!ValueError} naming the entry and the
   * index, as gradkit never writes a diverged model into a checkpoint without being asked).
   */
  readonly allowNonFinite?: boolean;
}

const FORBIDDEN_KEYS = new Set(['__proto__']);

/**
 * A state dict as plain JSON data: every entry's `Float32Array` becomes an array of numbers
 * (exact: a float32 value is a double, which `JSON.stringify` writes with enough digits to read
 * back bit for bit), `-0` becomes the string `'-0'`, the shape is copied and an `'int64'` dtype
 * kept. `JSON.parse(JSON.stringify(stateDictToJSON(sd)))` read by {@link stateDictFromJSON}
 * equals `sd` value for value (bits included).
 *
 * JSON has no NaN or Infinity: by default such a value is refused with a `ValueError`; with
 * `allowNonFinite: true` it is written as the string `'NaN'`, `'Infinity'` or `'-Infinity'`.
 * For large models prefer safetensors bytes (`stateDictToSafetensors` of `@gradkit/trainer`):
 * 4 bytes a value instead of about 10 to 20 characters.
 *
 * @param dict a state dict, e.g. `model.stateDict()` or an optimizer's tensor state.
 * @throws {ValueError} for a non-finite value (unless `allowNonFinite`), an entry whose values do
 *   not fill its shape, an unknown dtype, or a key named `__proto__`.
 * @example
 * ```ts
 * const text = JSON.stringify(stateDictToJSON(model.stateDict()));
 * other.loadStateDict(stateDictFromJSON(JSON.parse(text)));
 * ```
 */
export function stateDictToJSON(dict: StateDict, options: StateDictToJsonOptions = {}): StateDictJson {
  const op = 'stateDictToJSON';
  if (typeof dict !== 'object' || dict === null) throw new ValueError(op, 'expected a state dict object');
  const allow = options.allowNonFinite ?? false;
  const out: StateDictJson = {};
  for (const [key, e] of Object.entries(dict)) {
    if (FORBIDDEN_KEYS.has(key)) throw new ValueError(op, `an entry cannot be named '${key}'`);
    if (typeof e !== 'object' || e === null || !Array.isArray(e.shape) || !e.data) {
      throw new ValueError(op, `'${key}' must be an entry { shape, data }`);
    }
    const dtype = checkDtype(op, key, e.dtype);
    const size = checkShape(op, key, e.shape);
    const src = e.data as ArrayLike<number>;
    if (src.length !== size) {
      throw new ValueError(
        op,
        `'${key}' has ${src.length} values, shape ${formatShape(e.shape)} needs ${size}`,
      );
    }
    const data: StateValueJson[] = new Array(size);
    for (let i = 0; i < size; i++) {
      const v = src[i];
      if (Number.isFinite(v)) data[i] = Object.is(v, -0) ? '-0' : v;
      else if (!allow) {
        throw new ValueError(
          op,
          `'${key}' value at index ${i} is ${v}: JSON has no NaN or Infinity (allowNonFinite: true writes it as the string '${v}')`,
        );
      } else data[i] = String(v) as 'NaN' | 'Infinity' | '-Infinity';
    }
    const entry: StateEntryJson = { shape: [...e.shape], data };
    out[key] = dtype === 'float32' ? entry : { ...entry, dtype };
  }
  return out;
}

/**
 * A state dict from its JSON form ({@link stateDictToJSON}, possibly through `JSON.stringify`
 * and `JSON.parse`): each entry's values become a `Float32Array`, the strings `'NaN'`,
 * `'Infinity'`, `'-Infinity'` and `'-0'` their numbers. The result loads with
 * `Module.loadStateDict`.
 *
 * Everything is checked, with the entry and the index in the message: the input is an object of
 * entries, each shape a list of non-negative integers, each `data` an array of exactly as many
 * values as the shape holds, each value a number or one of those strings, `dtype` absent,
 * `'float32'` or `'int64'`, and an `'int64'` entry's values integers. A `Float32Array`'s own
 * entries (a `StateDict` that was not converted) are accepted as they are.
 *
 * @throws {ValueError} for anything that is not a state dict in JSON form, naming what is wrong.
 * @example
 * ```ts
 * const sd = stateDictFromJSON(JSON.parse(localStorage.getItem('model')!));
 * model.loadStateDict(sd);
 * ```
 */
export function stateDictFromJSON(json: unknown): StateDict {
  const op = 'stateDictFromJSON';
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new ValueError(op, `expected an object of state dict entries, got ${describe(json)}`);
  }
  const out: StateDict = {};
  for (const [key, e] of Object.entries(json as Record<string, unknown>)) {
    if (FORBIDDEN_KEYS.has(key)) throw new ValueError(op, `an entry cannot be named '${key}'`);
    if (typeof e !== 'object' || e === null || Array.isArray(e)) {
      throw new ValueError(op, `'${key}' must be an entry { shape, data }, got ${describe(e)}`);
    }
    const { shape, data, dtype: rawDtype } = e as { shape?: unknown; data?: unknown; dtype?: unknown };
    if (!Array.isArray(shape))
      throw new ValueError(op, `'${key}'.shape must be an array, got ${describe(shape)}`);
    const size = checkShape(op, key, shape);
    const dtype = checkDtype(op, key, rawDtype);
    if (data instanceof Float32Array) {
      if (data.length !== size) {
        throw new ValueError(
          op,
          `'${key}' has ${data.length} values, shape ${formatShape(shape)} needs ${size}`,
        );
      }
      out[key] = entryOf(shape, new Float32Array(data), dtype);
      continue;
    }
    if (!Array.isArray(data)) {
      throw new ValueError(
        op,
        `'${key}'.data must be an array of numbers, got ${describe(data)}` +
          (typeof data === 'object' && data !== null
            ? ' (a Float32Array after JSON.parse? write it with stateDictToJSON)'
            : ''),
      );
    }
    if (data.length !== size) {
      throw new ValueError(
        op,
        `'${key}' has ${data.length} values, shape ${formatShape(shape)} needs ${size}`,
      );
    }
    const values = new Float32Array(size);
    for (let i = 0; i < size; i++) {
      const v = parseValue(data[i]);
      if (v === undefined) {
        throw new ValueError(
          op,
          `'${key}' value at index ${i} is ${describe(data[i])}, expected a number or 'NaN', 'Infinity', '-Infinity', '-0'`,
        );
      }
      if (dtype === 'int64' && Number.isFinite(v) && !Number.isInteger(v)) {
        throw new ValueError(op, `'${key}' is int64 but its value at index ${i} is ${v}`);
      }
      values[i] = v;
    }
    out[key] = entryOf(shape, values, dtype);
  }
  return out;
}

function entryOf(shape: readonly number[], data: Float32Array, dtype: StateDtype): StateEntry {
  return dtype === 'float32' ? { shape: [...shape], data } : { shape: [...shape], data, dtype };
}

function parseValue(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  switch (v) {
    case 'NaN':
      return Number.NaN;
    case 'Infinity':
      return Number.POSITIVE_INFINITY;
    case '-Infinity':
      return Number.NEGATIVE_INFINITY;
    case '-0':
      return -0;
    default:
      return undefined;
  }
}

function checkShape(op: string, key: string, shape: readonly unknown[]): number {
  let size = 1;
  for (const d of shape) {
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) {
      throw new ValueError(
        op,
        `'${key}'.shape must hold non-negative integers, got ${JSON.stringify(shape)}`,
      );
    }
    size *= d;
  }
  return size;
}

function checkDtype(op: string, key: string, dtype: unknown): StateDtype {
  if (dtype === undefined || dtype === 'float32') return 'float32';
  if (dtype === 'int64') return 'int64';
  throw new ValueError(op, `'${key}'.dtype must be 'float32' or 'int64', got ${describe(dtype)}`);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object')
    return `an object${v.constructor && v.constructor !== Object ? ` (${v.constructor.name})` : ''}`;
  if (typeof v === 'string') return JSON.stringify(v);
  return String(v);
}
