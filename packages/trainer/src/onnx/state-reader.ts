import type { StateDict } from '@gradkit/tensor';
import { ShapeError, ValueError } from '@gradkit/tensor';

const OP = 'exportOnnx';

/**
 * gradkit's camelCase buffer names and PyTorch's, both ways: a state dict may spell BatchNorm's
 * buffers either way (checkpoints written before and after the rename to PyTorch's names).
 */
const ALIASES: Readonly<Record<string, string>> = {
  runningMean: 'running_mean',
  running_mean: 'runningMean',
  runningVar: 'running_var',
  running_var: 'runningVar',
  numBatchesTracked: 'num_batches_tracked',
  num_batches_tracked: 'numBatchesTracked',
};

/** The other spelling of `key` (`3.runningMean` <-> `3.running_mean`), or undefined. */
export function aliasOf(key: string): string | undefined {
  const dot = key.lastIndexOf('.');
  const other = ALIASES[key.slice(dot + 1)];
  return other === undefined ? undefined : key.slice(0, dot + 1) + other;
}

const fmt = (shape: readonly number[]) => `[${shape.join(', ')}]`;

/**
 * @internal Reads the entries of a state dict that the exporter needs, checking each one (present
 * under either spelling, the expected shape, that many values, all finite), and at the end that
 * nothing was left unread. Errors name the layer and the key.
 */
export class StateReader {
  private readonly consumed = new Set<string>();

  constructor(private readonly dict: StateDict) {
    if (typeof dict !== 'object' || dict === null || Array.isArray(dict)) {
      throw new ValueError(
        OP,
        `expected a state dict object ({ key: { shape, data } }), got ${String(dict)}`,
      );
    }
  }

  private find(key: string, where: string): string | undefined {
    const alias = aliasOf(key);
    const found = [key, alias].filter((k): k is string => k !== undefined && Object.hasOwn(this.dict, k));
    if (found.length === 2) {
      throw new ValueError(OP, `${where}: the state dict holds both '${key}' and '${alias}'; keep one`);
    }
    return found[0];
  }

  /**
   * The values of `key` (or its other spelling), which must have `shape`; returns the key found
   * and the values as float32.
   */
  read(key: string, shape: readonly number[], where: string): { key: string; data: Float32Array } {
    const found = this.find(key, where);
    if (found === undefined) {
      const alias = aliasOf(key);
      throw new ValueError(
        OP,
        `${where}: the state dict has no '${key}'${alias ? ` (nor '${alias}')` : ''}, shape ${fmt(shape)}`,
      );
    }
    const entry = this.dict[found] as unknown;
    if (typeof entry !== 'object' || entry === null || !Array.isArray((entry as { shape?: unknown }).shape)) {
      throw new ValueError(OP, `${where}: '${found}' must be an entry { shape, data }`);
    }
    const e = entry as { shape: readonly number[]; data?: ArrayLike<number> };
    if (e.shape.length !== shape.length || e.shape.some((d, i) => d !== shape[i])) {
      throw new ShapeError(
        OP,
        `${where}: '${found}' has shape ${fmt(e.shape)} in the state dict, the layer expects ${fmt(shape)}`,
        [e.shape, shape],
      );
    }
    const size = shape.reduce((p, d) => p * d, 1);
    const data = e.data;
    if (!data || typeof data.length !== 'number' || data.length !== size) {
      throw new ValueError(
        OP,
        `${where}: '${found}' has ${data?.length ?? 'no'} values, shape ${fmt(shape)} needs ${size}`,
      );
    }
    const values = data instanceof Float32Array ? data : Float32Array.from(data);
    const bad = values.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) {
      throw new ValueError(
        OP,
        `${where}: '${found}' holds a non-finite value (${values[bad]} at index ${bad})`,
      );
    }
    this.consumed.add(found);
    return { key: found, data: values };
  }

  /** Marks an entry that inference does not need (`numBatchesTracked`) as known, if present. */
  allow(key: string, where: string): void {
    const found = this.find(key, where);
    if (found !== undefined) this.consumed.add(found);
  }

  /** Throws a ValueError listing the entries nothing read (a state dict of another model). */
  finish(): void {
    const extra = Object.keys(this.dict).filter((k) => !this.consumed.has(k));
    if (extra.length > 0) {
      throw new ValueError(
        OP,
        `the state dict has entries the model does not use: ${extra.join(', ')} (a state dict of another model?)`,
      );
    }
  }
}
