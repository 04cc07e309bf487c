import { describe, expect, it } from 'vitest';
import { BackendError } from '../errors.js';
import { GPUJS_MISSING } from './gpujs.js';
import { detectSoftwareRenderer } from './renderer.js';
import type { RequireLike } from './require-gpujs.js';
import { requireGpuJs } from './require-gpujs.js';

// Renderer strings as platforms report them (unmasked where the platform exposes it).
const SOFTWARE: [string, string][] = [
  // headless-gl 8 (ANGLE on Mesa under Xvfb), as gradkit's glRenderer reads it
  [
    'ANGLE (Mesa/X.org llvmpipe (LLVM 15.0.6, 256 bits) OpenGL 4.5 core) (WebGL 1.0 stack-gl 8.1.6)',
    'llvmpipe',
  ],
  ['llvmpipe (LLVM 15.0.6, 256 bits)', 'llvmpipe'],
  // headless Chromium without a GPU (WEBGL_debug_renderer_info)
  [
    'ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device (Subzero) (0x0000C0DE)), SwiftShader driver)',
    'SwiftShader',
  ],
  ['Google SwiftShader', 'SwiftShader'],
  ['ANGLE (Google, SwiftShader Device (LLVM 10.0.0) (0x0000C0DE), SwiftShader driver-5.0.0)', 'SwiftShader'],
  ['Gallium 0.4 on softpipe', 'softpipe'],
  [
    'ANGLE (Microsoft, Microsoft Basic Render Driver Direct3D11 vs_5_0 ps_5_0, D3D11)',
    'Microsoft Basic Render Driver',
  ],
  ['GDI Generic', 'GDI Generic'],
  ['Apple Software Renderer', 'Apple Software Renderer'],
  ['ANGLE (Mesa, lavapipe (LLVM 14.0.6, 256 bits), Vulkan 1.3)', 'lavapipe'],
  ['Chromium Software Rasterizer', 'Software Rasterizer'],
];
const HARDWARE = [
  'ANGLE (NVIDIA, NVIDIA GeForce RTX 3060 Direct3D11 vs_5_0 ps_5_0, D3D11)',
  'ANGLE (Intel, Mesa Intel(R) UHD Graphics 620 (KBL GT2), OpenGL 4.6)',
  'AMD Radeon Pro 5500M OpenGL Engine',
  'Apple M1',
  'Mali-G78',
  'Adreno (TM) 650',
  'ANGLE (Mesa/X.org AMD Radeon RX 6800 (radeonsi, navi21, LLVM 15.0.6, DRM 3.49) OpenGL 4.6 core)',
  // masked renderers say nothing either way
  'WebKit WebGL',
  'ANGLE',
  '',
];

describe('detectSoftwareRenderer', () => {
  it.each(SOFTWARE)('%s -> %s', (renderer, name) => {
    expect(detectSoftwareRenderer(renderer)).toBe(name);
  });

  it.each(HARDWARE)('%j is not a software rasterizer', (renderer) => {
    expect(detectSoftwareRenderer(renderer)).toBeNull();
  });

  it('is case-insensitive and ignores non-strings', () => {
    expect(detectSoftwareRenderer('LLVMPIPE')).toBe('llvmpipe');
    expect(detectSoftwareRenderer(undefined as unknown as string)).toBeNull();
  });
});

describe('requireGpuJs (the Node gl entry loads gpu.js with it)', () => {
  function fakeRequire(resolve: (id: string) => string, load: (path: string) => unknown): RequireLike {
    return Object.assign((id: string) => load(id), { resolve });
  }
  const notFound = () => {
    throw Object.assign(new Error("Cannot find module 'gpu.js'"), { code: 'MODULE_NOT_FOUND' });
  };

  it('says exactly what to install when gpu.js is missing', () => {
    const call = () => requireGpuJs(fakeRequire(notFound, () => ({})));
    expect(call).toThrow(BackendError);
    expect(call).toThrow(GPUJS_MISSING);
    expect(GPUJS_MISSING).toMatch(/npm install gpu\.js@\^2\.24\.1/);
  });

  it('names the file and the error when gpu.js is found but does not load', () => {
    const call = () =>
      requireGpuJs(
        fakeRequire(
          () => '/x/node_modules/gpu.js/src/index.js',
          () => {
            throw new Error('boom\nstack');
          },
        ),
      );
    expect(call).toThrow(
      /gpu\.js is installed \(\/x\/node_modules\/gpu\.js\/src\/index\.js\) but could not be loaded: boom; reinstall it: npm install gpu\.js@\^2\.24\.1$/,
    );
  });

  it('rejects a module without a GPU class, and returns one that has it', () => {
    expect(() =>
      requireGpuJs(
        fakeRequire(
          () => '/x/gpu.js',
          () => ({}),
        ),
      ),
    ).toThrow(/does not export a GPU class/);
    class GPU {}
    const m = requireGpuJs(
      fakeRequire(
        () => '/x/gpu.js',
        () => ({ GPU }),
      ),
    );
    expect(m.GPU).toBe(GPU);
  });

  it('finds the real gpu.js from this package (a dev dependency here)', () => {
    expect(typeof requireGpuJs().GPU).toBe('function');
  });
});
