// `pnpm --filter @gradkit/web dev`: writes the data, rebuilds the code on every change (esbuild
// watch) and serves dist/ with the cross-origin isolation headers (scripts/serve.mjs; the same
// options: --port N, --no-isolation). Reload the page after a change. The gradkit packages are
// used from their builds: run `pnpm build` once first (and again after changing a package).
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import * as esbuild from 'esbuild';
import { appDir, distDir, esbuildOptions, writeData } from './build.mjs';
import { parseArgs, startServer } from './serve.mjs';

const o = parseArgs(process.argv.slice(2));
if (!existsSync(join(appDir, '../../packages/tensor/dist/index.js'))) {
  console.error('dev: the gradkit packages are not built: run `pnpm build` at the repository root first');
  process.exit(1);
}
mkdirSync(distDir, { recursive: true });
writeData();
const ctx = await esbuild.context(esbuildOptions());
await ctx.rebuild();
await ctx.watch();
const { origin } = await startServer({ ...o, dir: distDir });
console.log(
  `gradkit web demo on ${origin}/ (${o.isolation ? 'cross-origin isolated' : 'not cross-origin isolated'}); ` +
    'rebuilding on changes to src/; Ctrl+C stops',
);
