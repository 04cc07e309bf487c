import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BackendInfo, BackendName } from './backend.js';
import { CpuBackend } from './backends/cpu.js';
import type { BackendFactory } from './registry.js';
import { backendFactory, registerBackend, registeredBackends, unregisterBackend } from './registry.js';
import { availableBackends, createDevice } from './select.js';

// Automatic selection ranks a backend whose probe reports a software rasterizer below wasm (at
// priority 150: above cpu), says so in the reason, and still gives it to whoever names it. Fake
// GPU backends (the CPU kernels under another name) stand in for gl here; the real gl on Mesa's
// llvmpipe is checked under Xvfb in gl/select-gl.test.ts. Test files share their process: the
// registry and GRADKIT_BACKEND are restored after each test.

class FakeGpu extends CpuBackend {
  override readonly name: BackendName;
  override readonly info: Omit<BackendInfo, 'reason'>;
  constructor(name: string, renderer: string, software: boolean) {
    super();
    this.name = name;
    this.info = { ...new CpuBackend().info, name, renderer, softwareRenderer: software };
  }
}

function fake(name: string, priority: number, softwareRenderer?: string): BackendFactory {
  const renderer = softwareRenderer ? `ANGLE (Google, ${softwareRenderer} Device)` : 'ANGLE (NVIDIA GeForce)';
  return {
    name,
    priority,
    probe: () => ({
      ok: true,
      mode: 'fake',
      reason: '',
      renderer,
      ...(softwareRenderer ? { softwareRenderer } : {}),
    }),
    create: () => new FakeGpu(name, renderer, softwareRenderer !== undefined),
  };
}

const added: string[] = [];
let savedEnv: string | undefined;
let saved: BackendFactory[] = [];
beforeEach(() => {
  savedEnv = process.env.GRADKIT_BACKEND;
  delete process.env.GRADKIT_BACKEND;
  // the real gl (registered by the test setup) is left out: these tests rank fakes against wasm and cpu
  saved = ['wasm', 'gl'].flatMap((n) => backendFactory(n) ?? []);
  unregisterBackend('gl');
});
afterEach(() => {
  if (savedEnv !== undefined) process.env.GRADKIT_BACKEND = savedEnv;
  for (const n of added.splice(0)) unregisterBackend(n);
  for (const f of saved) if (!backendFactory(f.name)) registerBackend(f);
});
function add(f: BackendFactory): void {
  registerBackend(f);
  added.push(f.name);
}

describe('automatic selection and software rasterizers', () => {
  it('a GPU backend on a software rasterizer ranks below wasm, and the reason says so', () => {
    add(fake('fakesw', 1000, 'SwiftShader'));
    expect(registeredBackends()[0]).toBe('fakesw'); // its registered priority is unchanged
    const d = createDevice();
    try {
      expect(d.info().name).toBe('wasm');
      expect(d.info().reason).toMatch(
        /^auto: best available \(.*fakesw runs on a software rasterizer: SwiftShader, ranked below wasm; backend 'fakesw' or GRADKIT_BACKEND=fakesw still uses it/,
      );
    } finally {
      d.destroy();
    }
    expect(availableBackends().find((a) => a.name === 'fakesw')).toEqual({
      name: 'fakesw',
      available: true,
      gpuMode: 'fake',
      reason: '',
      softwareRenderer: 'SwiftShader',
    });
  });

  it('a GPU backend on hardware still ranks first', () => {
    add(fake('fakesw', 1000, 'llvmpipe'));
    add(fake('fakehw', 900));
    const d = createDevice();
    try {
      expect(d.info().name).toBe('fakehw');
      expect(d.info().softwareRenderer).toBe(false);
      expect(d.info().reason).toMatch(/fakesw runs on a software rasterizer: llvmpipe, ranked below fakehw/);
    } finally {
      d.destroy();
    }
  });

  it('named explicitly (option or GRADKIT_BACKEND), the software-rendered backend is used', () => {
    add(fake('fakesw', 1000, 'SwiftShader'));
    const d = createDevice({ backend: 'fakesw' });
    expect(d.info()).toMatchObject({
      name: 'fakesw',
      softwareRenderer: true,
      reason: "requested by option: backend 'fakesw'",
    });
    d.destroy();
    process.env.GRADKIT_BACKEND = 'fakesw';
    const e = createDevice();
    expect(e.info()).toMatchObject({ name: 'fakesw', reason: 'requested by GRADKIT_BACKEND=fakesw' });
    e.destroy();
  });

  it('without wasm, it ranks above cpu (software GL beats plain JavaScript only on rank, not by name)', () => {
    add(fake('fakesw', 1000, 'softpipe'));
    unregisterBackend('wasm');
    const d = createDevice();
    try {
      expect(d.info().name).toBe('fakesw');
      expect(d.info().reason).toMatch(
        /^auto: best available \(fakesw runs on a software rasterizer: softpipe/,
      );
    } finally {
      d.destroy();
    }
    // and a faster backend that ranks between it and cpu still comes before it
    add(fake('fakemid', 160));
    const e = createDevice();
    expect(e.info().name).toBe('fakemid');
    e.destroy();
  });

  it('a software-rendered backend registered below the software rank keeps its place', () => {
    add(fake('fakelow', 120, 'llvmpipe'));
    unregisterBackend('wasm');
    const d = createDevice();
    expect(d.info().name).toBe('fakelow'); // 120 > cpu's 100
    d.destroy();
  });

  it('asking for an unregistered gl names the package to install and the import', () => {
    expect(registeredBackends()).toEqual(['wasm', 'cpu']);
    for (const ask of [() => createDevice({ backend: 'gl' }), () => createDevice({ backend: 'GL' })]) {
      expect(ask).toThrow(/backend 'gl' is not registered \(registered: wasm, cpu\)/);
      expect(ask).toThrow(/npm install gpu\.js\) and is registered by import '@gradkit\/kernels\/gl'/);
    }
  });
});
