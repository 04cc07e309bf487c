import { defineConfig } from 'tsup';

export default defineConfig({
  // `index` (browsers, bundlers) and `node` (Node: also finds gpu.js when it is installed) are the
  // package's two faces of `.`; `gl` (static import of gpu.js, for bundlers) and `gl-node` (gpu.js
  // loaded with require and a clear error when missing) those of `@gradkit/kernels/gl`, the only
  // entry that loads gpu.js. The exports map's "node" condition picks the Node ones.
  entry: { index: 'src/index.ts', node: 'src/node.ts', gl: 'src/gl/index.ts', 'gl-node': 'src/gl/node.ts' },
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
