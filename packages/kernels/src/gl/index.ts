// `@gradkit/kernels/gl` for browsers and bundlers: importing this module registers the `gl`
// backend (gpu.js WebGL2/WebGL in a browser, headless-gl in Node) with priority 300, above wasm
// and cpu. gpu.js is imported statically here, so a bundler includes it. In Node the package's
// exports map sends `@gradkit/kernels/gl` to ./node.ts instead, which loads gpu.js with `require`
// and says what to install when it is missing. The core package never imports gpu.js.
import { GPU } from 'gpu.js';
import { registeredBackends } from '../registry.js';
import { useGpuJs } from './gpujs.js';
import { registerGlBackend } from './register.js';

export type { GpuJsBuffer, GpuJsStats } from './backend.js';
export { GpuJsBackend } from './backend.js';
export type { GlPackedStats } from './packed.js';
export type { GpuJsMode, GpuJsProbe } from './probe.js';
export { probeGpuJs } from './probe.js';
export type { GlKernelProfile, GlProfile, GlProfileOptions, GlProfileSync } from './profile.js';
export { profileGl } from './profile-device.js';
export { registerGlBackend } from './register.js';
export { detectSoftwareRenderer } from './renderer.js';

useGpuJs({ GPU });
// (a named import from the core's registry: a bundler then sees this entry use the shared chunk,
// instead of a bare import of it that esbuild reports as dropped under "sideEffects")
if (!registeredBackends().includes('gl')) registerGlBackend();
