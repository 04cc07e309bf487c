// GemmThreads' take-back: a slab whose worker has not started it is run by the calling thread
// and never by the worker as well; the worker then serves the next ticket as usual.
import { describe, expect, it } from 'vitest';
import { WASM_MODULES } from './module.generated.js';
import { DONE, GemmThreads, SLOT_WORDS, threadSupport } from './threads.js';

const support = threadSupport();
if (!support.ok) console.log(`skipping the GEMM thread take-back test: ${support.reason}`);

describe.skipIf(!support.ok)('GemmThreads.reclaim', () => {
  it('a ticket is run exactly once, by the worker or by the caller; the next ticket still works', () => {
    const src = WASM_MODULES.find((m) => m.name === 'gemm')!;
    const bytes = Uint8Array.from(atob(src.shared), (c) => c.charCodeAt(0));
    const mod = new WebAssembly.Module(bytes);
    const memory = new WebAssembly.Memory({ initial: 64, maximum: 65536, shared: true });
    const { gemm, gemm_workspace } = new WebAssembly.Instance(mod, { env: { memory } }).exports as {
      gemm: (...a: number[]) => void;
      gemm_workspace: (n: number) => number;
    };
    const threads = new GemmThreads(mod, memory, 1, (support as { kind: 'node' | 'browser' }).kind);
    try {
      expect(threads.waitReady(1, 10_000)).toBe(true);
      const f = new Float32Array(memory.buffer);
      // C [4, 8] = A [4, 4] B [4, 8]: A = identity times 2, B = 0..31, C starts at -1 (accumulate flag 0 overwrites)
      const A = 1024;
      const B = 2048;
      const C = 4096;
      const WS = 8192;
      expect(gemm_workspace(8)).toBeLessThan(4 * 1024 * 1024);
      const ctrl = (threads as unknown as { ctrl: Int32Array }).ctrl;
      let reclaimed = 0;
      let served = 0;
      for (let round = 0; round < 40; round++) {
        for (let i = 0; i < 16; i++) f[A / 4 + i] = i % 5 === 0 ? 2 : 0;
        for (let i = 0; i < 32; i++) f[B / 4 + i] = i + round;
        f.fill(-1, C / 4, C / 4 + 32);
        const args = [A, B, C, 4, 8, 4, 4, 1, 8, 1, 8, WS];
        const t = threads.post(1, args);
        if (round % 2 === 0 && threads.reclaim(1, t)) {
          reclaimed++;
          gemm(...args);
          // the worker skips it: it never reports this ticket done
          const until = performance.now() + 20;
          while (performance.now() < until) {}
          expect(Atomics.load(ctrl, SLOT_WORDS + DONE)).not.toBe(t);
        } else {
          served++;
          // the worker has it (even rounds: it won the race) or may take it (odd rounds): wait
          expect(threads.wait(1, t)).toBe(true);
          expect(threads.reclaim(1, t)).toBe(false); // a finished ticket cannot be taken back
        }
        for (let i = 0; i < 32; i++) expect(f[C / 4 + i]).toBe(2 * (i + round));
      }
      expect(reclaimed + served).toBe(40);
      console.log(`take-back test: ${reclaimed} tickets taken back, ${served} served by the worker`);
    } finally {
      threads.close();
    }
  });
});
