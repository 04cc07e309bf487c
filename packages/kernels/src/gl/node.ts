// `@gradkit/kernels/gl` in Node (the exports map's "node" condition): as ./index.ts, but gpu.js is
// loaded with `require` from where @gradkit/kernels is installed, so that a missing gpu.js is a
// BackendError saying exactly what to install instead of Node's "Cannot find package". Also
// loaded by the core's Node entry (../node.ts) when it finds gpu.js installed.
import { useGpuJs } from './gpujs.js';
import { registerGlBackend } from './register.js';
import { requireGpuJs } from './require-gpujs.js';

export type { GpuJsBuffer, GpuJsStats } from './backend.js';
export { GpuJsBackend } from './backend.js';
export type { GpuJsMode, GpuJsProbe } from './probe.js';
export { probeGpuJs } from './probe.js';
export { registerGlBackend } from './register.js';
export { detectSoftwareRenderer } from './renderer.js';

useGpuJs(requireGpuJs());
registerGlBackend();
