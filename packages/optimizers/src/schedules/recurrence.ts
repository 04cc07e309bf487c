// Memoized evaluation of a first-order recurrence (internal: not exported from the barrel).

/** How often a value is kept, so that going back costs at most this many recurrence steps. */
const CHECKPOINT_EVERY = 1024;

/**
 * `v(0) = initial`, `v(t) = next(v(t - 1), t)` as a function of `t`, for schedules whose PyTorch
 * values come from a recursion (the rounding of each step is part of the result). Calls with
 * increasing steps, as a training loop makes them, cost O(1) each; a call for an earlier step
 * restarts from the value kept every 1024 steps; a first call for a far step costs O(step).
 * The values are a pure function of `t`: the memo never changes them.
 */
export function memoizeRecurrence(
  initial: number,
  next: (previous: number, step: number) => number,
): (step: number) => number {
  const checkpoints: number[] = [initial]; // checkpoints[k] = v(k * CHECKPOINT_EVERY)
  let cursorStep = 0;
  let cursorValue = initial;
  return (step: number): number => {
    if (step < cursorStep) {
      const k = Math.floor(step / CHECKPOINT_EVERY);
      cursorStep = k * CHECKPOINT_EVERY;
      cursorValue = checkpoints[k];
    }
    while (cursorStep < step) {
      cursorStep += 1;
      cursorValue = next(cursorValue, cursorStep);
      if (cursorStep % CHECKPOINT_EVERY === 0 && checkpoints.length === cursorStep / CHECKPOINT_EVERY) {
        checkpoints.push(cursorValue);
      }
    }
    return cursorValue;
  };
}
