import { defineConfig } from 'tsup';

export default defineConfig({
  // `node` is its own entry (`@gradkit/trainer/node`): the file readers and writers, the only
  // modules that import Node's fs, path, zlib and module. The main entry stays browser-safe.
  entry: { index: 'src/index.ts', node: 'src/node.ts' },
  // Both entries share one copy of the core (Dataset, the error classes, ...): shared chunks in
  // the CJS build too (tsup's splitting for cjs), else `instanceof DataError` would fail across
  // entries.
  splitting: true,
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
  // The CJS build has no import.meta.url (the code falls back to __filename / require).
  esbuildOptions(options) {
    options.logOverride = { 'empty-import-meta': 'silent' };
  },
});
