// `@gradkit/kernels/gl` in Node (the exports map's "node" condition): as ./index.ts, but gpu.js is
// loaded with `require` from where @gradkit/kernels is installed, so that a missing gpu.js is a
// BackendError saying exactly what to install instead of Node's "Cannot find package". Also
// loaded by the core's Node entry (../node.ts) when it finds gpu.js installed.
import { registeredBackends } from '../registry.js';
import { useGpuJs } from './gpujs.js';
import { registerGlBackend } from './register.js';
import { requireGpuJs } from './require-gpujs.js';

export type { GpuJsBuffer, GpuJsStats } from './backend.js';
export { GpuJsBackend } from './backend.js';
export type { GlPackedStats } from './packed.js';
export type { GpuJsMode, GpuJsProbe } from './probe.js';
export { probeGpuJs } from './probe.js';
export type { GlKernelProfile, GlProfile, GlProfileOptions, GlProfileSync } from './profile.js';
export { profileGl } from './profile-device.js';
export { registerGlBackend } from './register.js';
export { detectSoftwareRenderer } from './renderer.js';

useGpuJs(requireGpuJs());
// (a named import from the core's registry: a bundler then sees this entry use the shared chunk,
// instead of a bare import of it that esbuild reports as dropped under "sideEffects")
if (!registeredBackends().includes('gl')) registerGlBackend();
