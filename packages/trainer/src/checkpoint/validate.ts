import type { TrainerState } from '../trainer.js';
import { CheckpointError } from './checkpoint-error.js';

/** @internal A plain object (not null, not an array). */
export const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const isRngState = (v: unknown): boolean =>
  Array.isArray(v) && v.length === 4 && v.every((w) => Number.isInteger(w) && w >= 0 && w <= 0xffffffff);

/** @internal Checks the shape of trainer.json's `trainer` entry, naming the first bad field. */
export function checkTrainerState(path: string, t: unknown): TrainerState {
  const bad = (what: string): never => {
    throw new CheckpointError(`${path}: ${what}; the file is corrupt or not from this version of gradkit`);
  };
  if (!isObject(t)) return bad('"trainer" must be an object');
  if (!isCount(t.epoch))
    bad(`"trainer.epoch" must be a non-negative integer, got ${JSON.stringify(t.epoch)}`);
  if (!isCount(t.step)) bad(`"trainer.step" must be a non-negative integer, got ${JSON.stringify(t.step)}`);
  if (!Array.isArray(t.history)) return bad('"trainer.history" must be an array');
  t.history.forEach((r: unknown, i: number) => {
    if (
      !isObject(r) ||
      r.epoch !== i + 1 ||
      !isCount(r.step) ||
      typeof r.seconds !== 'number' ||
      !isObject(r.logs) ||
      !Object.values(r.logs).every((v) => typeof v === 'number' || v === null)
    )
      bad(`"trainer.history[${i}]" must be { epoch: ${i + 1}, step, seconds, logs: { name: number } }`);
  });
  if (!isRngState(t.dataRng)) bad('"trainer.dataRng" must be four unsigned 32-bit integers');
  if (!isRngState(t.globalRng)) bad('"trainer.globalRng" must be four unsigned 32-bit integers');
  if (!isObject(t.callbacks)) bad('"trainer.callbacks" must be an object');
  if (t.stopped !== null && typeof t.stopped !== 'string') bad('"trainer.stopped" must be a string or null');
  return t as unknown as TrainerState;
}
