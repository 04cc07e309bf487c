import { defineConfig } from 'tsup';

export default defineConfig({
  // `gl` is its own entry (`@gradkit/kernels/gl`): the only module that imports gpu.js.
  entry: { index: 'src/index.ts', gl: 'src/gl/index.ts' },
  // Both entries share one copy of the registry, the errors and the kernels: shared chunks in the
  // CJS build too (tsup's splitting for cjs), else `gl.cjs` would register into its own registry.
  splitting: true,
  // import.meta.url in the CJS build (gl/probe.ts anchors require at this module): tsup's shim.
  shims: true,
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
  // esbuild's note about import.meta in CJS output is answered by the shim above.
  esbuildOptions(options) {
    options.logOverride = { 'empty-import-meta': 'silent' };
  },
});
