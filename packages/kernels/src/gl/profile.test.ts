import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BackendBuffer } from '../backend.js';
import { CpuBackend } from '../backends/cpu.js';
import { Device } from '../device.js';
import { BINARY, UNARY } from '../elementwise.js';
import { BackendError } from '../errors.js';
import { GpuJsBackend } from './backend.js';
import { probeGpuJs } from './probe.js';
import type { GlProfile } from './profile.js';
import { profileGl } from './profile-device.js';

// The gl profiler counts what a known sequence of ops does: exact launches per kernel, uploads,
// read-backs, program switches and texture allocations. Needs headless-gl (xvfb-run ..., see
// backend.test.ts); GRADKIT_REQUIRE_BACKENDS=gl makes a missing context a failure, not a skip.
// No tolerances: every figure checked is a count.

const required = (process.env.GRADKIT_REQUIRE_BACKENDS ?? '').toLowerCase().split(',').includes('gl');
const probe = probeGpuJs('headlessgl');

describe.skipIf(!probe.ok && !required)('gl profiler (headlessgl)', () => {
  let be: GpuJsBackend;
  beforeAll(() => {
    be = new GpuJsBackend('headlessgl');
  });
  afterAll(() => be?.destroy());

  /** upload x (6 floats), relu(x), x + relu(x), read the sum; returns the buffers it made. */
  const sequence = (): BackendBuffer[] => {
    const x = be.upload(new Float32Array([1, -2, 3, -4, 5, -6]));
    const y = be.map(UNARY.relu, [x], [[6]], [6], []);
    const z = be.map(BINARY.add, [x, y], [[6], [6]], [6], []);
    expect([...be.read(z)]).toEqual([2, -2, 6, -4, 10, -6]);
    return [x, y, z];
  };

  it('counts a cold run: compiles, launches, uploads, reads', () => {
    be.startProfile();
    expect(be.profiling).toBe(true);
    const bufs = sequence();
    const p = be.stopProfile();
    for (const b of bufs) be.free(b);
    expect(be.profiling).toBe(false);
    expect(p.sync).toBe('read');
    expect(p.launches).toBe(3);
    expect(p.compiles).toBe(3);
    expect(p.programLinks).toBe(3);
    expect(p.uploads).toBe(1);
    expect(p.uploadBytes).toBe(24);
    expect(p.reads).toBe(1);
    expect(p.readBytes).toBe(24);
    expect(p.readPixelsCalls).toBe(1); // the profiler's own 1-pixel syncs are not counted
    const names = p.kernels.map((k) => k.name).sort();
    expect(names).toEqual(['map(add)', 'map(relu)', 'upload']);
    for (const k of p.kernels) {
      expect(k.launches).toBe(1);
      expect(k.compiles).toBe(1);
      expect(k.compileMs).toBeGreaterThan(0);
      expect(k.ms).toBe(0);
    }
    expect(p.wallMs).toBeGreaterThanOrEqual(p.compileMs);
  });

  it('counts a warm run twice: no compiles, one program switch per launch, textures reused once freed', () => {
    // outputs of the previous run freed: each kernel renders into its own texture again
    be.startProfile();
    const kept = sequence();
    const p = be.stopProfile();
    expect(p.launches).toBe(3);
    expect(p.compiles).toBe(0);
    expect(p.programLinks).toBe(0);
    expect(p.useProgramCalls).toBe(3);
    expect(p.programSwitches).toBe(3);
    expect(p.textureAllocations).toBe(0);
    expect(p.textureReuses).toBe(3);
    expect(p.kernelMs).toBeGreaterThan(0);
    expect(p.kernelMs).toBeLessThanOrEqual(p.wallMs);
    const up = p.kernels.find((k) => k.name === 'upload')!;
    expect(up.texUploads).toBe(1); // the array goes up as one texture
    expect(up.texUploadBytes).toBeGreaterThanOrEqual(24);
    expect(p.texUploads).toBe(1);
    for (const k of p.kernels) expect(k.programSwitches).toBe(1);

    // outputs of the previous run still alive: without the texture pool (and with gpu.js running
    // the maps) every launch needs a new output texture
    be.texturePool = false;
    be.directMap = false;
    let q: GlProfile;
    let again: BackendBuffer[];
    try {
      be.startProfile({ sync: 'none' });
      again = sequence();
      q = be.stopProfile();
    } finally {
      be.texturePool = true;
      be.directMap = true;
    }
    expect(q.sync).toBe('none');
    expect(q.launches).toBe(3);
    expect(q.textureAllocations).toBe(3);
    expect(q.textureReuses).toBe(0);
    expect(q.reads).toBe(1);
    for (const k of q.kernels) expect(k.textureAllocations).toBe(1);
    for (const b of [...kept, ...again]) be.free(b);

    // with the pool, textures freed above serve some of the outputs of a sequence run while the
    // previous sequence's outputs are alive (the run without the pool allocated all three)
    const alive = sequence();
    be.startProfile({ sync: 'none' });
    const third = sequence();
    const r = be.stopProfile();
    expect(r.launches).toBe(3);
    expect(r.textureAllocations).toBeLessThan(3);
    expect(r.textureReuses).toBeGreaterThan(0);
    for (const b of [...alive, ...third]) be.free(b);
  });

  it('restores the WebGL context when it stops (nothing is wrapped while off)', () => {
    const ctx = (be as unknown as { gpu: { context: Record<string, unknown> } }).gpu.context;
    const names = [
      'useProgram',
      'linkProgram',
      'createTexture',
      'deleteTexture',
      'texImage2D',
      'texSubImage2D',
      'readPixels',
    ];
    const own = names.map((m) => Object.hasOwn(ctx, m));
    const before = names.map((m) => ctx[m]);
    be.startProfile({ sync: 'finish' });
    expect(names.map((m) => ctx[m] === before[names.indexOf(m)])).toEqual(names.map(() => false));
    be.stopProfile();
    expect(names.map((m) => ctx[m] === before[names.indexOf(m)])).toEqual(names.map(() => true));
    expect(names.map((m) => Object.hasOwn(ctx, m))).toEqual(own);
  });

  it('refuses a second start, a stop without start and an unknown sync', () => {
    be.startProfile();
    expect(() => be.startProfile()).toThrow(/a profile is already running/);
    be.stopProfile();
    expect(() => be.stopProfile()).toThrow(/no profile is running/);
    expect(() => be.startProfile({ sync: 'fence' as never })).toThrow(
      /sync must be 'read', 'finish' or 'none', got 'fence'/,
    );
  });

  it('profileGl profiles a device, and stops when the work throws', () => {
    const d = new Device(be, 'test');
    const { result, profile } = profileGl(d, () => {
      const x = d.array([1, -2, 3], [3]);
      const y = d.unary('relu', x);
      const v = y.read();
      x.dispose();
      y.dispose();
      return v;
    });
    expect([...result]).toEqual([1, 0, 3]);
    expect(profile.launches).toBe(2); // upload, map(relu)
    expect(profile.uploads).toBe(1);
    expect(profile.reads).toBe(1);
    expect(profile.kernels.find((k) => k.name === 'map(relu)')?.launches).toBe(1);
    expect(() =>
      profileGl(d, () => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(be.profiling).toBe(false);
  });
});

describe('profileGl off gl', () => {
  it('names the backend the device runs on', () => {
    const d = new Device(new CpuBackend(), 'test');
    expect(() => profileGl(d, () => 1)).toThrow(BackendError);
    expect(() => profileGl(d, () => 1)).toThrow("profileGl: the device runs on 'cpu', not on 'gl'");
  });
});
