import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { StateDict } from '@gradkit/tensor';
import type { Json } from '../callbacks/callback.js';
import { fsyncDirectory, writeFileAtomic } from './atomic.js';
import { CheckpointError } from './checkpoint-error.js';
import { migrateStateDict } from './migrate.js';
import { decodeSafetensors, encodeSafetensors } from './safetensors.js';
import type { Checkpoint } from './types.js';
import { CHECKPOINT_VERSION } from './types.js';
import { checkTrainerState, isObject } from './validate.js';

/**
 * File names inside a checkpoint directory.
 *
 * @example
 * ```ts
 * join('runs/mnist/last', CHECKPOINT_FILES.model); // 'runs/mnist/last/model.safetensors'
 * ```
 */
export const CHECKPOINT_FILES = {
  /** The model's parameters and persistent buffers (safetensors). */
  model: 'model.safetensors',
  /** The optimizer's state dict (JSON). */
  optimizer: 'optimizer.json',
  /** The callbacks' state tensors, e.g. early stopping's best weights (safetensors). */
  callbacks: 'callbacks.safetensors',
  /** The trainer's state: epoch, step, history, callback states, run metadata (JSON). */
  state: 'trainer.json',
} as const;

export type { Checkpoint };
export { CheckpointError };

/**
 * Writes a checkpoint directory: `model.safetensors` (weights), `optimizer.json`,
 * `callbacks.safetensors` and `trainer.json` (epoch, step, history, generator states, callback
 * states, model description, config). The files are written into a temporary directory
 * `.<name>.tmp-<pid>-<random>` beside `dir`, the previous checkpoint is renamed to
 * `.<name>.old-<pid>`, the temporary directory is renamed to `dir`, and the old one is removed:
 * an interrupted save leaves either the previous checkpoint or the new one. Leftovers of a save
 * that was killed (by a process that no longer runs) are swept first; when such a kill left no
 * `dir` but a complete `.<name>.old-*`, that one is put back as `dir` (see {@link loadCheckpoint}).
 * Renames replace a symbolic link at `dir` instead of writing through it.
 *
 * @throws {CheckpointError} when a tensor cannot be encoded; file-system errors as thrown by Node.
 * @example
 * ```ts
 * saveCheckpoint('runs/mnist/last', { model: model.stateDict(), optimizer: opt.stateDict(), trainer: trainer.state(), callbackTensors: {}, modelSpec, config });
 * ```
 */
export function saveCheckpoint(dir: string, ckpt: Checkpoint): void {
  const parent = dirname(dir);
  mkdirSync(parent, { recursive: true });
  sweepLeftovers(dir);
  const tmp = join(parent, `.${basename(dir)}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`);
  const old = join(parent, `.${basename(dir)}.old-${process.pid}`);
  try {
    const meta = { format: 'gradkit', epoch: String(ckpt.trainer.epoch), step: String(ckpt.trainer.step) };
    writeFileAtomic(join(tmp, CHECKPOINT_FILES.model), encodeSafetensors(ckpt.model, meta));
    writeFileAtomic(join(tmp, CHECKPOINT_FILES.optimizer), JSON.stringify(ckpt.optimizer));
    const cbt: StateDict = {};
    for (const [cb, tensors] of Object.entries(ckpt.callbackTensors)) {
      for (const [k, v] of Object.entries(tensors)) cbt[`${cb}/${k}`] = v;
    }
    writeFileAtomic(join(tmp, CHECKPOINT_FILES.callbacks), encodeSafetensors(cbt, meta));
    const state = {
      format: 'gradkit.checkpoint',
      version: CHECKPOINT_VERSION,
      savedAt: new Date().toISOString(),
      trainer: ckpt.trainer,
      model: ckpt.modelSpec,
      config: ckpt.config,
    };
    writeFileAtomic(join(tmp, CHECKPOINT_FILES.state), `${JSON.stringify(state, null, 1)}\n`);
    if (exists(dir)) renameSync(dir, old);
    renameSync(tmp, dir);
    fsyncDirectory(parent);
    rmSync(old, { recursive: true, force: true });
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    if (!exists(dir) && exists(old)) renameSync(old, dir);
    throw e;
  }
}

/** True for an existing path, a dangling symbolic link included (unlike `existsSync`). */
function exists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Whether process `pid` may still be writing its leftovers (never this process: it is not saving now). */
function running(pid: number): boolean {
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** `.<name>.tmp-<pid>-*` and `.<name>.old-<pid>` beside `dir` left by processes that no longer run. */
function staleLeftovers(dir: string): { path: string; kind: 'tmp' | 'old' }[] {
  const parent = dirname(dir);
  const prefix = `.${basename(dir)}.`;
  let names: string[];
  try {
    names = readdirSync(parent);
  } catch {
    return [];
  }
  const out: { path: string; kind: 'tmp' | 'old' }[] = [];
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const m = /^(tmp|old)-(\d+)(-[0-9a-z]*)?$/.exec(name.slice(prefix.length));
    if (!m || (m[1] === 'old') !== (m[3] === undefined) || running(Number(m[2]))) continue;
    out.push({ path: join(parent, name), kind: m[1] as 'tmp' | 'old' });
  }
  return out;
}

/**
 * Cleans up after a save that was killed: removes stale temporary directories and, when `dir` is
 * missing, renames the most recent complete previous checkpoint (`.<name>.old-*`) back to `dir`.
 * Returns where the checkpoint now is: `dir`, or the leftover itself when the rename failed (a
 * read-only directory), or null when there was nothing to recover.
 */
function sweepLeftovers(dir: string): string | null {
  const found = staleLeftovers(dir);
  let recovered: string | null = exists(dir) ? dir : null;
  if (recovered === null) {
    const candidates = found
      .filter((f) => f.kind === 'old')
      .map((f) => ({ path: f.path, epoch: savedEpoch(f.path) }))
      .filter((c) => c.epoch !== null)
      .sort((a, b) => (b.epoch as number) - (a.epoch as number));
    if (candidates.length > 0) {
      try {
        renameSync(candidates[0].path, dir);
        recovered = dir;
      } catch {
        return candidates[0].path;
      }
    }
  }
  for (const f of found) {
    if (f.path === recovered) continue;
    try {
      rmSync(f.path, { recursive: true, force: true });
    } catch {
      // a read-only directory: leave it
    }
  }
  return recovered;
}

/** The epoch of a checkpoint directory's trainer.json, or null when it is not a readable checkpoint. */
function savedEpoch(dir: string): number | null {
  try {
    const s = JSON.parse(readFileSync(join(dir, CHECKPOINT_FILES.state), 'utf8'));
    const epoch = s?.trainer?.epoch;
    return Number.isSafeInteger(epoch) && exists(join(dir, CHECKPOINT_FILES.model)) ? epoch : null;
  } catch {
    return null;
  }
}

function readOrThrow(path: string, what: string): Buffer {
  if (!existsSync(path))
    throw new CheckpointError(`${path}: missing ${what}; is this a gradkit checkpoint directory?`);
  return readFileSync(path);
}

function parseJson(path: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new CheckpointError(`${path}: not valid JSON (${(e as Error).message})`);
  }
}

/** Options of {@link loadCheckpoint}. */
export interface LoadCheckpointOptions {
  /**
   * Also read what continuing the training needs: `optimizer.json` and `callbacks.safetensors`
   * (default true). With false (evaluation, prediction) only `trainer.json` and
   * `model.safetensors` are read: the result's `optimizer` is null and `callbackTensors` empty, so
   * a damaged optimizer state does not stop a model from being used.
   */
  readonly training?: boolean;
}

/**
 * Reads a checkpoint directory written by {@link saveCheckpoint}, checking `trainer.json`'s
 * schema (format, version, epoch, step, history, generator states, callback states) and that the
 * weights are from the same epoch and step.
 *
 * Checkpoints of format version 1 (written before gradkit used PyTorch's state dict names) are
 * migrated on read: BatchNorm's `runningMean`, `runningVar` and float32 `numBatchesTracked` in
 * the model and in the callbacks' tensors become `running_mean`, `running_var` and int64
 * `num_batches_tracked` ({@link migrateStateDict}), so they load into today's modules.
 *
 * When `dir` is missing because a save was killed between its renames, the previous checkpoint
 * it left (`.<name>.old-<pid>`, from a process that no longer runs) is renamed back to `dir` and
 * read; stale temporary directories of killed saves are removed.
 *
 * @param options `training: false` reads only the model and trainer.json (see
 *   {@link LoadCheckpointOptions}).
 * @throws {CheckpointError} for a missing directory or file, invalid JSON, a foreign format, a
 *   malformed field, files from different epochs, or a malformed safetensors file
 *   ({@link SafetensorsError}).
 * @example
 * ```ts
 * const ckpt = loadCheckpoint('runs/mnist/last');
 * model.loadStateDict(ckpt.model);
 * ckpt.trainer.epoch; // epochs completed when it was written
 * const forEval = loadCheckpoint('runs/mnist/best', { training: false }); // optimizer not read
 * ```
 */
export function loadCheckpoint(dir: string, options: LoadCheckpointOptions = {}): Checkpoint {
  const training = options.training ?? true;
  const at = sweepLeftovers(dir);
  if (at === null || !existsSync(at)) throw new CheckpointError(`${dir}: no such checkpoint directory`);
  const statePath = join(at, CHECKPOINT_FILES.state);
  const state = parseJson(statePath, readOrThrow(statePath, CHECKPOINT_FILES.state).toString('utf8'));
  if (
    !isObject(state) ||
    state.format !== 'gradkit.checkpoint' ||
    (state.version !== 1 && state.version !== CHECKPOINT_VERSION)
  ) {
    const s = isObject(state) ? state : {};
    throw new CheckpointError(
      `${at}: unsupported checkpoint format ${JSON.stringify(s.format)} version ${JSON.stringify(s.version)}`,
    );
  }
  const trainer = checkTrainerState(statePath, state.trainer);
  for (const key of ['model', 'config'] as const) {
    if (state[key] !== undefined && state[key] !== null && !isObject(state[key]))
      throw new CheckpointError(`${statePath}: "${key}" must be an object or null`);
  }
  const modelPath = join(at, CHECKPOINT_FILES.model);
  const model = decodeSafetensors(readOrThrow(modelPath, CHECKPOINT_FILES.model), modelPath);
  for (const key of ['epoch', 'step'] as const) {
    if (model.metadata[key] !== String(trainer[key])) {
      throw new CheckpointError(
        `${at}: ${CHECKPOINT_FILES.model} is from ${key} ${model.metadata[key]}, ${CHECKPOINT_FILES.state} from ${key} ${trainer[key]}`,
      );
    }
  }
  if (trainer.history.length !== trainer.epoch) {
    throw new CheckpointError(
      `${statePath}: "trainer.history" has ${trainer.history.length} records for ${trainer.epoch} completed epochs`,
    );
  }
  let optimizer: unknown = null;
  const callbackTensors: Record<string, StateDict> = {};
  if (training) {
    const optPath = join(at, CHECKPOINT_FILES.optimizer);
    optimizer = parseJson(optPath, readOrThrow(optPath, CHECKPOINT_FILES.optimizer).toString('utf8'));
    if (!isObject(optimizer))
      throw new CheckpointError(`${optPath}: expected a JSON object (an optimizer state dict)`);
    const cbPath = join(at, CHECKPOINT_FILES.callbacks);
    if (existsSync(cbPath)) {
      for (const [key, t] of Object.entries(decodeSafetensors(readFileSync(cbPath), cbPath).tensors)) {
        const slash = key.indexOf('/');
        if (slash <= 0)
          throw new CheckpointError(`${cbPath}: tensor '${key}' is not named '<callback>/<name>'`);
        const cb = key.slice(0, slash);
        const name = key.slice(slash + 1);
        // a plain-object record would take '__proto__' as its prototype and drop the tensors
        if (cb === '__proto__' || name === '__proto__')
          throw new CheckpointError(
            `${cbPath}: tensor '${key}': a callback or tensor cannot be named '__proto__'`,
          );
        if (!Object.hasOwn(callbackTensors, cb)) callbackTensors[cb] = {};
        callbackTensors[cb][name] = t;
      }
    }
  }
  const legacy = state.version === 1;
  if (legacy) {
    for (const cb of Object.keys(callbackTensors))
      callbackTensors[cb] = migrateStateDict(callbackTensors[cb], `${at} callback '${cb}'`);
  }
  return {
    model: legacy ? migrateStateDict(model.tensors, modelPath) : model.tensors,
    optimizer,
    trainer,
    callbackTensors,
    modelSpec: (state.model as Json | undefined) ?? null,
    config: (state.config as Json | undefined) ?? null,
  };
}
