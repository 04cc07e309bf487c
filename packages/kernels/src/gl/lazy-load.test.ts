import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

// gpu.js is loaded only by programs that import '@gradkit/kernels/gl': the built package (dist, as
// users get it) is imported in a fresh Node process and gpu.js is looked for in Node's module
// cache. Importing the gl entry must load it (which shows the check can see gpu.js at all).
const dist = join(import.meta.dirname, '..', '..', 'dist');
const built = existsSync(join(dist, 'index.js')) && existsSync(join(dist, 'gl.js'));

function loadedAfter(imports: string[], format: 'esm' | 'cjs'): { gpujs: boolean; backends: string } {
  const files = imports.map((f) => join(dist, format === 'esm' ? `${f}.js` : `${f}.cjs`));
  const script =
    format === 'esm'
      ? `const { createRequire } = await import('node:module');
         let k;
         for (const f of ${JSON.stringify(files.map((f) => pathToFileURL(f).href))}) { const m = await import(f); k ??= m; }
         const cache = createRequire(import.meta.url).cache;
         console.log(JSON.stringify({ gpujs: Object.keys(cache).some((p) => /[\\\\/]gpu\\.js[\\\\/]/.test(p)), backends: k.registeredBackends().join(',') }));`
      : `let k;
         for (const f of ${JSON.stringify(files)}) { const m = require(f); k ??= m; }
         console.log(JSON.stringify({ gpujs: Object.keys(require.cache).some((p) => /[\\\\/]gpu\\.js[\\\\/]/.test(p)), backends: k.registeredBackends().join(',') }));`;
  const r = spawnSync(
    process.execPath,
    format === 'esm' ? ['--input-type=module', '-e', script] : ['-e', script],
    {
      encoding: 'utf8',
    },
  );
  if (r.status !== 0) throw new Error(r.stderr);

  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

describe.skipIf(!built)('gpu.js is loaded on demand only (built package)', () => {
  if (!built) console.info(`[lazy-load] skipped: ${dist} has no build; run pnpm build first`);

  it.each(['esm', 'cjs'] as const)('%s: @gradkit/kernels alone does not load gpu.js; /gl does', (format) => {
    const core = loadedAfter(['index'], format);
    expect(core).toEqual({ gpujs: false, backends: 'wasm,cpu' });
    const withGl = loadedAfter(['index', 'gl'], format);
    expect(withGl).toEqual({ gpujs: true, backends: 'gl,wasm,cpu' });
  });
});
