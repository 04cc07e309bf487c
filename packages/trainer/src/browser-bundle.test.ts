import { existsSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';
import { describe, expect, it } from 'vitest';

// The main entry (@gradkit/trainer) is the browser-safe core: bundled by esbuild for
// `platform: 'browser'` it must import no Node builtin (fs, path, zlib, node:*), directly or
// through any module it reaches. The Node side lives in src/node.ts (@gradkit/trainer/node),
// which is checked to be the one that does import them.

const src = dirname(fileURLToPath(import.meta.url));
const BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

const packages = join(src, '..', '..');

/**
 * Bundles `entry` for the browser; returns every Node builtin imported, as `builtin <- importer`.
 * With `withDependencies`, the other `@gradkit/*` packages are bundled from their sources (as a
 * user's bundler would from their builds), else left out.
 */
async function nodeImports(entry: string, withDependencies: boolean, base = src): Promise<string[]> {
  const found: string[] = [];
  const spy: Plugin = {
    name: 'node-builtins',
    setup(b) {
      b.onResolve({ filter: /.*/ }, (args) => {
        if (BUILTINS.has(args.path) || args.path.startsWith('node:')) {
          found.push(`${args.path} <- ${relative(src, args.importer)}`);
          return { path: args.path, external: true };
        }
        const m = /^@gradkit\/([a-z-]+)$/.exec(args.path);
        if (m) {
          return withDependencies
            ? { path: join(packages, m[1], 'src', 'index.ts') }
            : { path: args.path, external: true };
        }
        return undefined;
      });
    },
  };
  await build({
    entryPoints: [join(base, entry)],
    bundle: true,
    write: false,
    platform: 'browser',
    format: 'esm',
    logLevel: 'silent',
    plugins: [spy],
  });
  return found;
}

describe('the main entry is browser-safe', () => {
  it('bundles for the browser without importing a Node builtin', async () => {
    expect(await nodeImports('index.ts', false)).toEqual([]);
  });

  it('with its gradkit dependencies (tensor, nn, normalization, dropout, kernels) too', async () => {
    expect(await nodeImports('index.ts', true)).toEqual([]);
  });

  // the build too (CI builds before it tests): tsup's shims or a shared chunk could bring a Node
  // module into dist/index.js that the sources do not import
  const dist = join(src, '..', 'dist');
  it.skipIf(!existsSync(join(dist, 'index.js')))(
    'the built dist/index.js as well (skipped before a build)',
    async () => {
      expect(await nodeImports('index.js', false, dist)).toEqual([]);
    },
  );

  it('the Node subpath is where fs, path and zlib are imported', async () => {
    const found = await nodeImports('node.ts', false);
    for (const m of ['node:fs', 'node:path', 'node:zlib']) {
      expect(found.some((f) => f.startsWith(`${m} `))).toBe(true);
    }
  });
});
