import { resolve } from 'node:path';
import type { ViteUserConfig } from 'vitest/config';

/**
 * The vitest settings every package shares: tests beside the code, generous timeouts (GL shader
 * compiles on a software renderer are slow), one fork per file, workspace packages resolved to
 * their sources, the gl backend registered (`@gradkit/kernels/gl`), and, when
 * GRADKIT_TEST_REPORT_DIR is set (CI), a JSON report per package.
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
      // registers the gl backend (gpu.js) so that every backend matrix covers it where it starts
      setupFiles: [resolve(import.meta.dirname, 'tools/test-utils/src/register-gl.ts')],
      testTimeout: 180_000,
      hookTimeout: 180_000,
      pool: 'forks',
      reporters: reportDir
        ? ['default', ['json', { outputFile: resolve(reportDir, `vitest-${pkg}.json`) }]]
        : ['default'],
    },
  };
}
