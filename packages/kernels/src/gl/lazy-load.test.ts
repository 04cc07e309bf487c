import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

// gpu.js is loaded only by programs that import '@gradkit/kernels/gl', or, in Node, that let
// automatic selection find it installed: the built package (dist, as users get it) is imported in
// a fresh Node process and gpu.js is looked for in Node's module cache. Importing the gl entry
// must load it (which shows the check can see gpu.js at all). gpu.js is a dev dependency here, so
// the Node entry (dist/node.*) finds it.
const dist = join(import.meta.dirname, '..', '..', 'dist');
const built = ['index', 'node', 'gl', 'gl-node'].every(
  (f) => existsSync(join(dist, `${f}.js`)) && existsSync(join(dist, `${f}.cjs`)),
);

interface Loaded {
  gpujs: boolean;
  backends: string;
  /** The automatic choice, when `then` was 'auto'. */
  chosen?: string;
  /** Anything the process wrote to stderr (a warning). */
  stderr?: string;
}

/** Imports `imports` from dist in a fresh process, then optionally creates a device (`auto`). */
function loadedAfter(
  imports: string[],
  format: 'esm' | 'cjs',
  then: 'nothing' | 'auto' = 'nothing',
  env: Record<string, string> = {},
): Loaded {
  const files = imports.map((f) => join(dist, format === 'esm' ? `${f}.js` : `${f}.cjs`));
  const act =
    then === 'auto'
      ? 'const d = k.createDevice(); const chosen = d.info().name; d.destroy();'
      : 'const chosen = undefined;';
  const report = `const gpujs = Object.keys(cache).some((p) => /[\\\\/]gpu\\.js[\\\\/]/.test(p));
         console.log(JSON.stringify({ gpujs, backends: k.registeredBackends().join(','), ...(chosen ? { chosen } : {}) }));`;
  const script =
    format === 'esm'
      ? `const { createRequire } = await import('node:module');
         let k;
         for (const f of ${JSON.stringify(files.map((f) => pathToFileURL(f).href))}) { const m = await import(f); k ??= m; }
         ${act}
         const cache = createRequire(import.meta.url).cache;
         ${report}`
      : `let k;
         for (const f of ${JSON.stringify(files)}) { const m = require(f); k ??= m; }
         ${act}
         const cache = require.cache;
         ${report}`;
  const childEnv: Record<string, string | undefined> = { ...process.env, ...env };
  delete childEnv.DISPLAY; // gl's probe answers at once without an X server
  if (!('GRADKIT_BACKEND' in env)) delete childEnv.GRADKIT_BACKEND;
  const r = spawnSync(
    process.execPath,
    format === 'esm' ? ['--input-type=module', '-e', script] : ['-e', script],
    { encoding: 'utf8', env: childEnv },
  );
  if (r.status !== 0) throw new Error(r.stderr);
  const out: Loaded = JSON.parse(r.stdout.trim().split('\n').pop()!);
  if (r.stderr.trim() !== '') out.stderr = r.stderr.trim();
  return out;
}

describe.skipIf(!built)('gpu.js is loaded on demand only (built package)', () => {
  if (!built) console.info(`[lazy-load] skipped: ${dist} has no build; run pnpm build first`);

  it.each(['esm', 'cjs'] as const)('%s: @gradkit/kernels alone does not load gpu.js; /gl does', (format) => {
    const core = loadedAfter(['index'], format);
    expect(core).toEqual({ gpujs: false, backends: 'wasm,cpu' });
    const withGl = loadedAfter(['index', 'gl'], format);
    expect(withGl).toEqual({ gpujs: true, backends: 'gl,wasm,cpu' });
    const withGlNode = loadedAfter(['node', 'gl-node'], format);
    expect(withGlNode).toEqual({ gpujs: true, backends: 'gl,wasm,cpu' });
  });

  it.each(['esm', 'cjs'] as const)(
    '%s: the Node entry loads gpu.js only when automatic selection looks for it, and finds it installed',
    (format) => {
      expect(loadedAfter(['node'], format)).toEqual({ gpujs: false, backends: 'wasm,cpu' });
      // gl is registered (found), cannot start without an X display here, so auto falls back;
      // no warning is printed (the ESM entry loads gl-node.js with require(esm)).
      const auto = loadedAfter(['node'], format, 'auto');
      expect(auto).toEqual({ gpujs: true, backends: 'gl,wasm,cpu', chosen: 'wasm' });
      // a named backend other than gl never looks for gpu.js
      expect(loadedAfter(['node'], format, 'auto', { GRADKIT_BACKEND: 'wasm' })).toEqual({
        gpujs: false,
        backends: 'wasm,cpu',
        chosen: 'wasm',
      });
    },
  );
});
