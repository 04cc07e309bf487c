import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/main.ts', 'src/worker.ts'],
  format: ['esm'],
  clean: true,
  target: 'node20',
  platform: 'node',
  // every package stays an import resolved from node_modules at run time (TF.js wasm finds its
  // .wasm files there); the workers are split into chunks, loaded only by the process that runs them
  skipNodeModulesBundle: true,
  splitting: true,
});
