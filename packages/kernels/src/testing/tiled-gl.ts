// The headless-gl backend the tiled-array tests share (src/gl/tiles.test.ts, tiled-ops.test.ts).
import { afterAll, afterEach, beforeAll } from 'vitest';
import type { BackendBuffer } from '../backend.js';
import { GpuJsBackend } from '../gl/backend.js';
import { TILE_ELEMENTS } from '../gl/tiles.js';

/** What {@link tiledGlFixture} gives a suite. */
export interface TiledGlFixture {
  /** Uploads `x`; the buffer is freed after the test. */
  up(x: Float32Array): BackendBuffer;
  /** Frees `b` after the test; returns it. */
  keep(b: BackendBuffer): BackendBuffer;
  /** Small tiles: arrays over 1000 elements in tiles of 256. */
  small(): void;
  /** The backend's own tiling again: tiles above `maxKernelElements`, of 2^22 elements at most. */
  reset(): void;
}

/**
 * Registers the suite's hooks for a headless-gl {@link GpuJsBackend}: made before the suite
 * (handed to `set`), its tiling reset and every buffer from `up` or `keep` freed after each test,
 * destroyed after the suite. Call it inside the `describe`.
 *
 * @example
 * ```ts
 * let be: GpuJsBackend;
 * const { up, keep, small } = tiledGlFixture((b) => { be = b; });
 * ```
 */
export function tiledGlFixture(set: (be: GpuJsBackend) => void): TiledGlFixture {
  let be: GpuJsBackend | null = null;
  const live: BackendBuffer[] = [];
  const keep = (b: BackendBuffer): BackendBuffer => {
    live.push(b);
    return b;
  };
  const reset = () => {
    if (be === null) return;
    const limit = be.info.maxKernelElements!;
    be.tileAbove = limit;
    be.tileElements = Math.min(TILE_ELEMENTS, 2 ** Math.floor(Math.log2(limit)));
  };
  beforeAll(() => {
    be = new GpuJsBackend('headlessgl');
    set(be);
  });
  afterEach(() => {
    for (const b of live.splice(0)) be?.free(b);
    reset();
  });
  afterAll(() => {
    be?.destroy();
  });
  return {
    up: (x) => keep(be!.upload(x)),
    keep,
    small: () => {
      be!.tileAbove = 1000;
      be!.tileElements = 256;
    },
    reset,
  };
}
