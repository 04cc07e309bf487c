// The WebAssembly modules of the wasm backend, in the order the backend instantiates them on its
// one shared memory. Chromium compiles a module synchronously on a page's main thread only up to
// 4,096 bytes, so kernels are spread over several small modules; scripts/build-wasm.mjs
// assembles each entry in a shared-memory and a plain variant, fails when one is larger than that
// or when two modules export the same name, and writes them to src/backends/wasm/module.generated.ts.
//
// Adding a module: write a function returning the module's functions in WAT text (they may use
// the imported `env.memory`; export what the backend calls) and add one line below. The backend
// (src/backends/wasm/wasm.ts) instantiates every module and collects their exports in one object.
//
// Entry fields:
// - name: a unique identifier (the generated source and errors use it).
// - wat: () => string, the module's functions (scripts/wasm-gen.mjs's moduleWat adds the memory import).
// - features: wabt features beyond SIMD and threads the text needs (e.g. { relaxed_simd: true }).
// - variantOf: the name of an earlier module this one can replace (same exports and behaviour
//   within a stated tolerance); the backend uses it instead of that module only where the engine
//   validates it. Absent for an ordinary module, which every engine with SIMD must accept.
import { gemmWat, rowsWat, softmaxWat } from './wasm-gen.mjs';
import { dotWat, smallWat } from './wasm-skinny-gen.mjs';
import { windowWat } from './wasm-window-gen.mjs';

export const WASM_MODULES = [
  { name: 'gemm', wat: () => gemmWat() },
  { name: 'rows', wat: () => rowsWat() },
  { name: 'softmax', wat: () => softmaxWat() },
  // the GEMM with fused multiply-adds (relaxed SIMD), used instead of 'gemm' where the engine validates it
  {
    name: 'gemm_relaxed',
    variantOf: 'gemm',
    features: { relaxed_simd: true },
    wat: () => gemmWat(undefined, { fma: true }),
  },
  { name: 'window', wat: () => windowWat() },
  { name: 'dot', wat: () => dotWat() },
  { name: 'small', wat: () => smallWat() },
];
