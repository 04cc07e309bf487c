// The browser page's timer part (imported by main.js; bundled by scripts/browser-test.mjs), run on
// the gl backend only: does `await t.data()` let the page run while the GPU works (issue 16)?
//
// A 16 ms setInterval runs through the whole part and records the time of every callback. Each
// of ROUNDS rounds then
//   1. enqueues a chain of MATMULS products of [N, N] matrices (synchronous calls: on WebGL they
//      only queue commands, and whatever time they take is NOT measured), and
//   2. awaits the last product's values with `await y.data()` (the backend's readAsync: on WebGL2
//      a pixel-pack buffer behind a fence, polled from timers), measured from just before the
//      `data()` call (so a read that blocks inside the call itself counts) to just after the
//      await resumes.
// What is measured, per round: the gaps between consecutive events of [start of the data() call,
// every timer callback inside the await, end of the await], i.e. how long the page went without a
// timer callback while it was waiting for the GPU. A read that blocks (readPixels waiting for the
// queue to drain) shows as one gap as long as the GPU's work; a non-blocking one leaves only the
// timer's own period and the page's scheduling jitter.
// After each round the page waits as long again with no GPU work (a plain timeout) and records the
// gaps the same way: the control, how late this machine's timer fires when nothing blocks it.
// The checks (in scripts/browser-test.mjs) are made on the rounds after the first (which compiles
// the kernels): the gaps within 2x the period (at the 90th percentile; beyond 8x in at most a
// quarter of the rounds),
// and the awaits long enough (several periods in total) that the check means something: the GPU's
// work really happens during them.
import { backendInfo, matmul, Rng, randn, scope } from '@gradkit/tensor';

/** The timer's period, in milliseconds. */
export const TIMER_PERIOD_MS = 16;
/** Side of the square matrices multiplied. */
export const N = 512;
/** Products chained per round (each reads the previous one, so none can be skipped). */
export const MATMULS = 3;
/** Rounds (each one awaited read); the first also compiles the kernels, so it is not checked. */
export const ROUNDS = 9;

/**
 * Runs the rounds on the page's default device (must be gl) and reports the timer callbacks
 * relative to each awaited read. Resolves with `{ ok: true, ... }` or `{ ok: false, error }`.
 */
export async function runTimerDuringReads() {
  const info = backendInfo();
  const ticks = [];
  const timer = setInterval(() => ticks.push(performance.now()), TIMER_PERIOD_MS);
  const rounds = [];
  try {
    const rng = new Rng(3);
    const a = randn([N, N], { std: 1 / Math.sqrt(N), rng });
    try {
      // let the timer start before the first round
      await new Promise((r) => setTimeout(r, 3 * TIMER_PERIOD_MS));
      for (let round = 0; round < ROUNDS; round++) {
        const t0 = performance.now();
        const y = scope(() => {
          let p = a;
          for (let i = 0; i < MATMULS; i++) p = matmul(p, a);
          return p;
        });
        const tRead = performance.now();
        let values;
        try {
          values = await y.data();
        } finally {
          y.dispose();
        }
        const tEnd = performance.now();
        const inside = ticks.filter((t) => t > tRead && t < tEnd);
        const events = [tRead, ...inside, tEnd];
        const gapsMs = [];
        for (let i = 1; i < events.length; i++) gapsMs.push(round2(events[i] - events[i - 1]));
        // the control: the same page waiting as long with no GPU work (a plain timeout), whose
        // gaps say how late this machine's timer fires anyway (a loaded machine delays both)
        const tIdle = performance.now();
        await new Promise((r) => setTimeout(r, tEnd - tRead));
        const tIdleEnd = performance.now();
        const idleEvents = [tIdle, ...ticks.filter((t) => t > tIdle && t < tIdleEnd), tIdleEnd];
        const idleGapsMs = [];
        for (let i = 1; i < idleEvents.length; i++)
          idleGapsMs.push(round2(idleEvents[i] - idleEvents[i - 1]));
        rounds.push({
          enqueueMs: round2(tRead - t0),
          awaitMs: round2(tEnd - tRead),
          ticks: inside.length,
          gapsMs,
          idleGapsMs,
          finite: values.length === N * N && values.every(Number.isFinite),
        });
      }
    } finally {
      a.dispose();
    }
  } finally {
    clearInterval(timer);
  }
  return {
    ok: true,
    backend: info.name,
    gpuMode: info.gpuMode,
    asyncRead: info.asyncRead ?? null,
    periodMs: TIMER_PERIOD_MS,
    n: N,
    matmuls: MATMULS,
    rounds,
  };
}

const round2 = (x) => Math.round(x * 100) / 100;
