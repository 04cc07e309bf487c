import { afterAll, describe, expect, it } from 'vitest';
import { probeBackend } from '../registry.js';
import { availableBackends, createDevice } from '../select.js';
import './index.js'; // registers gl, as `import '@gradkit/kernels/gl'` does

// The real gl backend (headless-gl under Xvfb: Mesa's llvmpipe behind ANGLE): automatic selection
// recognises the software rasterizer and picks wasm, while backend 'gl' still runs on gl.
// GRADKIT_REQUIRE_BACKENDS=gl (CI's gl run) turns "gl cannot start here" into a failure.
// xvfb-run -a -s "-screen 0 1280x1024x24 +extension GLX" npx vitest run src/gl/select-gl.test.ts

const required = (process.env.GRADKIT_REQUIRE_BACKENDS ?? '').split(',').map((s) => s.trim());
const probe = probeBackend('gl');
const savedEnv = process.env.GRADKIT_BACKEND;
afterAll(() => {
  if (savedEnv !== undefined) process.env.GRADKIT_BACKEND = savedEnv;
});

describe('automatic selection with the real gl backend', () => {
  it('gl starts here, or says why not (required when named in GRADKIT_REQUIRE_BACKENDS)', () => {
    if (required.includes('gl')) expect(probe.ok, probe.reason).toBe(true);
    if (!probe.ok) console.info(`[select-gl] gl cannot start here: ${probe.reason}`);
  });

  it.runIf(probe.ok)('the probe reads the renderer and recognises a software rasterizer in it', () => {
    console.info(
      `[select-gl] renderer: ${probe.renderer}; software rasterizer: ${probe.softwareRenderer ?? 'none'}`,
    );
    expect(probe.renderer).toMatch(/\w/);
    // headless-gl reports RENDERER as just 'ANGLE': the renderer must name the driver under ANGLE
    expect(probe.renderer).not.toMatch(/^ANGLE \(WebGL/);
    const a = availableBackends().find((b) => b.name === 'gl')!;
    expect(a.available).toBe(true);
    expect(a.softwareRenderer).toBe(probe.softwareRenderer);
  });

  it.runIf(probe.ok)('auto picks wasm over gl on a software rasterizer; backend gl still gets gl', () => {
    delete process.env.GRADKIT_BACKEND;
    const auto = createDevice();
    const gl = createDevice({ backend: 'gl' });
    try {
      if (probe.softwareRenderer !== undefined) {
        expect(auto.info().name).toBe('wasm');
        expect(auto.info().reason).toContain(
          `gl runs on a software rasterizer: ${probe.softwareRenderer}, ranked below wasm; backend 'gl' or GRADKIT_BACKEND=gl still uses it`,
        );
        expect(gl.info().softwareRenderer).toBe(true);
      } else {
        // a hardware GPU: gl keeps its rank
        expect(auto.info().name).toBe('gl');
        expect(gl.info().softwareRenderer).toBe(false);
      }
      expect(gl.info().name).toBe('gl');
      expect(gl.info().renderer).toBe(probe.renderer);
      const x = gl.array([1, -2, 3], [3]);
      expect(Array.from(gl.unary('square', x).read())).toEqual([1, 4, 9]);
      process.env.GRADKIT_BACKEND = 'gl';
      const env = createDevice();
      expect(env.info()).toMatchObject({ name: 'gl', reason: 'requested by GRADKIT_BACKEND=gl' });
      env.destroy();
    } finally {
      delete process.env.GRADKIT_BACKEND;
      auto.destroy();
      gl.destroy();
    }
  });
});
