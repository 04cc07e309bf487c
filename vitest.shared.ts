import { resolve } from 'node:path';
import type { ViteUserConfig } from 'vitest/config';
import { configDefaults } from 'vitest/config';

/**
 * Test files whose results do not depend on the backend (host-side parsing, schedules, code
 * generators, tests that name their backends themselves, the CLI and bench apps, which CI runs on
 * wasm): CI runs them once, in the wasm run, and skips them in the gl and cpu runs
 * (`GRADKIT_TEST_SCOPE=per-backend`). Everything else runs on every backend. Paths are relative
 * to the package directory.
 */
export const BACKEND_INDEPENDENT: Readonly<Record<string, readonly string[]>> = {
  kernels: [
    'src/codegen.test.ts',
    'src/random.test.ts',
    'src/gl/sources.test.ts',
    'src/gl/lazy-load.test.ts',
    'src/backends/wasm/**/*.test.ts',
    'src/spec/**/*.test.ts',
  ],
  init: ['src/fans.test.ts', 'src/gain.test.ts', 'src/normal-cdf.test.ts'],
  optimizers: ['src/schedules/**/*.test.ts'],
  trainer: [
    'src/data/csv.test.ts',
    'src/data/dataset.test.ts',
    'src/data/idx.test.ts',
    'src/data/mnist.test.ts',
    'src/data/mnist-missing.test.ts',
    'src/data/permutation.test.ts',
    'src/checkpoint/safetensors.test.ts',
    'src/callbacks/metrics-logger.test.ts',
    'src/browser-bundle.test.ts',
    'src/worker-recipe.test.ts',
  ],
  cli: ['src/**/*.test.ts'],
  bench: ['src/**/*.test.ts'],
};

/**
 * The vitest settings every package shares: tests beside the code, generous timeouts (GL shader
 * compiles on a software renderer are slow), forked workers that run many files each, workspace packages resolved to
 * their sources, the gl backend registered (`@gradkit/kernels/gl`), the backend-independent
 * files skipped when `GRADKIT_TEST_SCOPE=per-backend`, and, when GRADKIT_TEST_REPORT_DIR is set
 * (CI), a JSON report per package.
 */
export function packageTestConfig(pkg: string, _dir: string): ViteUserConfig {
  const reportDir = process.env.GRADKIT_TEST_REPORT_DIR;
  const packages = resolve(import.meta.dirname, 'packages');
  const names = [
    'kernels',
    'tensor',
    'init',
    'nn',
    'normalization',
    'dropout',
    'regularizers',
    'optimizers',
    'trainer',
  ];
  // Exact matches (a bare prefix would also rewrite subpaths such as @gradkit/kernels/gl).
  const alias = [
    { find: /^@gradkit\/kernels\/gl$/, replacement: resolve(packages, 'kernels', 'src/gl/index.ts') },
    { find: /^@gradkit\/trainer\/node$/, replacement: resolve(packages, 'trainer', 'src/node.ts') },
    ...names.map((name) => ({
      find: new RegExp(`^@gradkit/${name}$`),
      replacement: resolve(packages, name, 'src/index.ts'),
    })),
    {
      find: /^@gradkit\/test-utils$/,
      replacement: resolve(import.meta.dirname, 'tools/test-utils/src/index.ts'),
    },
  ];
  return {
    resolve: { alias },
    test: {
      include: ['src/**/*.test.ts'],
      exclude:
        process.env.GRADKIT_TEST_SCOPE === 'per-backend'
          ? [...configDefaults.exclude, ...(BACKEND_INDEPENDENT[pkg] ?? [])]
          : configDefaults.exclude,
      // a package whose every file is backend-independent has nothing to run in a per-backend pass
      passWithNoTests: process.env.GRADKIT_TEST_SCOPE === 'per-backend',
      // registers the gl backend (gpu.js) so that every backend matrix covers it where it starts
      setupFiles: [resolve(import.meta.dirname, 'tools/test-utils/src/register-gl.ts')],
      testTimeout: 180_000,
      hookTimeout: 180_000,
      pool: 'forks',
      // test files share their worker's modules, devices and GL context: a fresh process per file
      // cost more than the tests themselves (gpu.js loads and a GL context starts in every one);
      // files must therefore restore what they change (default device, registry, env)
      isolate: false,
      reporters: reportDir
        ? ['default', ['json', { outputFile: resolve(reportDir, `vitest-${pkg}.json`) }]]
        : ['default'],
    },
  };
}
