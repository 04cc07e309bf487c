import type { BackendName, Device, DeviceMemory } from '@gradkit/kernels';
import { Tensor } from './tensor.js';
import { isPromiseLike } from './util.js';

/** @internal One open {@link scope}: the tensors created inside it that it will dispose. */
export class ScopeFrame {
  readonly tensors = new Set<Tensor>();
  open = true;
  constructor(readonly parent: ScopeFrame | null) {}
}

const stack: ScopeFrame[] = [];
const liveByDevice = new Map<Device, number>();
let liveTotal = 0;

/** @internal Counts a new tensor and, when `track` is set, hands it to the innermost open scope. */
export function registerTensor(t: Tensor, track: boolean): void {
  liveTotal++;
  liveByDevice.set(t.device, (liveByDevice.get(t.device) ?? 0) + 1);
  if (track) {
    const top = stack[stack.length - 1];
    if (top) {
      top.tensors.add(t);
      t._scope = top;
    }
  }
}

/** @internal Forgets a disposed tensor. */
export function unregisterTensor(t: Tensor): void {
  liveTotal--;
  liveByDevice.set(t.device, (liveByDevice.get(t.device) ?? 1) - 1);
  untrack(t);
}

function untrack(t: Tensor): void {
  if (t._scope) {
    t._scope.tensors.delete(t);
    t._scope = null;
  }
}

/** Collects the tensors in a scope's result: a tensor, or arrays, plain objects and Maps of them, nested. */
function collectTensors(value: unknown, out: Set<Tensor>, seen: Set<unknown>): void {
  if (value instanceof Tensor) {
    out.add(value);
    return;
  }
  if (typeof value !== 'object' || value === null || seen.has(value)) return;
  seen.add(value);
  if (Array.isArray(value)) {
    for (const v of value) collectTensors(v, out, seen);
  } else if (value instanceof Map) {
    for (const v of value.values()) collectTensors(v, out, seen);
  } else {
    const proto = Object.getPrototypeOf(value);
    if (proto === Object.prototype || proto === null) {
      for (const v of Object.values(value as Record<string, unknown>)) collectTensors(v, out, seen);
    }
  }
}

function endScope(frame: ScopeFrame, result: unknown): void {
  frame.open = false;
  const at = stack.lastIndexOf(frame);
  if (at >= 0) stack.splice(at, 1);
  const returned = new Set<Tensor>();
  collectTensors(result, returned, new Set());
  let parent = frame.parent;
  while (parent && !parent.open) parent = parent.parent;
  for (const t of [...frame.tensors]) {
    if (returned.has(t)) {
      frame.tensors.delete(t);
      t._scope = parent;
      parent?.tensors.add(t);
    } else {
      t.dispose();
    }
  }
}

/**
 * Runs `fn` and then disposes every tensor created inside it, except the tensors it returns (a
 * tensor, or tensors inside returned arrays, plain objects and Maps, at any depth) and tensors
 * passed to {@link keep}. Returned tensors move to the enclosing scope, so scopes nest. Parameters
 * and gradients (`.grad`) are never owned by a scope. Works with async functions: the tensors are
 * disposed when the promise settles.
 *
 * Call `backward()` inside the scope that built the graph: the intermediates it needs are disposed
 * when the scope ends.
 *
 * Async caveat: a tensor belongs to the innermost scope open when it is created, so two async
 * scopes that run concurrently can collect each other's tensors; await one before starting the next.
 *
 * @returns what `fn` returns (a promise for an async `fn`).
 * @example
 * ```ts
 * const loss = scope(() => {
 *   const l = softmaxCrossEntropy(model.forward(x), labels);
 *   l.backward();
 *   noGrad(() => { for (const p of model.parameters()) p.assign(p.sub(p.grad!.mul(0.1))); });
 *   return l; // everything else created here is disposed
 * });
 * console.log(loss.item());
 * loss.dispose();
 * ```
 */
export function scope<T>(fn: () => T): T {
  const frame = new ScopeFrame(stack[stack.length - 1] ?? null);
  stack.push(frame);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    endScope(frame, undefined);
    throw e;
  }
  if (isPromiseLike(result)) {
    return Promise.resolve(result).then(
      (v) => {
        endScope(frame, v);
        return v;
      },
      (e: unknown) => {
        endScope(frame, undefined);
        throw e;
      },
    ) as T;
  }
  endScope(frame, result);
  return result;
}

/**
 * Exempts tensors from every {@link scope}: they are not disposed when a scope ends and must be
 * disposed by hand. Accepts a tensor or arrays, plain objects and Maps of tensors (nested).
 *
 * @returns its argument.
 * @example
 * ```ts
 * let running: Tensor;
 * scope(() => { running = keep(zeros([3])); const tmp = ones([3]); }); // tmp is disposed, running is not
 * ```
 */
export function keep<T>(value: T): T {
  const found = new Set<Tensor>();
  collectTensors(value, found, new Set());
  for (const t of found) {
    untrack(t);
    t._kept = true;
  }
  return value;
}

/** Memory of one device: the kernels' counters plus the live tensors on it. */
export interface DeviceMemoryInfo extends DeviceMemory {
  /** The backend's name, `'gl'`, `'wasm'` or `'cpu'`. */
  readonly backend: BackendName;
  /** The device itself. */
  readonly device: Device;
  /** Live (not disposed) tensors on this device. */
  readonly tensors: number;
}

/** What {@link memory} reports: totals over every device that holds or held tensors, and each device. */
export interface MemoryInfo {
  /** Live tensors (parameters and gradients included). */
  readonly tensors: number;
  /** Live device arrays (tensors, views kept for backward passes, cached constants). */
  readonly arrays: number;
  /** Live device buffers (views share one). */
  readonly buffers: number;
  /** Bytes held by live buffers. */
  readonly bytes: number;
  /** Read-backs (device to host copies) so far. */
  readonly readbacks: number;
  /** Uploads (host to device copies) so far. */
  readonly uploads: number;
  /** Kernel launches so far. */
  readonly kernels: number;
  /** Per device. */
  readonly devices: readonly DeviceMemoryInfo[];
}

/**
 * Live tensors plus the device counters (arrays, buffers, bytes, read-backs, uploads, kernel
 * launches), in total and per device. Only devices that tensors were created on are listed.
 * Use it to check that a training step frees what it allocates.
 *
 * @example
 * ```ts
 * const before = memory();
 * scope(() => step());
 * memory().buffers === before.buffers; // true when the step leaks nothing
 * ```
 */
export function memory(): MemoryInfo {
  const devices: DeviceMemoryInfo[] = [];
  let arrays = 0;
  let buffers = 0;
  let bytes = 0;
  let readbacks = 0;
  let uploads = 0;
  let kernels = 0;
  for (const [device, tensors] of liveByDevice) {
    const m = device.memory();
    devices.push({ ...m, backend: device.name, device, tensors });
    arrays += m.arrays;
    buffers += m.buffers;
    bytes += m.bytes;
    readbacks += m.readbacks;
    uploads += m.uploads;
    kernels += m.kernels;
  }
  return { tensors: liveTotal, arrays, buffers, bytes, readbacks, uploads, kernels, devices };
}
