import { resolve } from 'node:path';
import type { ViteUserConfig } from 'vitest/config';

/**
 * The vitest settings every package shares: tests beside the code, generous timeouts (GL shader
 * compiles on a software renderer are slow), one fork per file, workspace packages resolved to
 * their sources, and, when GRADKIT_TEST_REPORT_DIR is set (CI), a JSON report per package.
 */
export function packageTestConfig(pkg: string, _dir: string): ViteUserConfig {
  const reportDir = process.env.GRADKIT_TEST_REPORT_DIR;
  const packages = resolve(import.meta.dirname, 'packages');
  const alias = Object.fromEntries(
    [
      'kernels',
      'tensor',
      'init',
      'nn',
      'normalization',
      'dropout',
      'regularizers',
      'optimizers',
      'trainer',
    ].map((name) => [`@gradkit/${name}`, resolve(packages, name, 'src/index.ts')]),
  );
  alias['@gradkit/test-utils'] = resolve(import.meta.dirname, 'tools/test-utils/src/index.ts');
  return {
    resolve: { alias },
    test: {
      include: ['src/**/*.test.ts'],
      testTimeout: 180_000,
      hookTimeout: 180_000,
      pool: 'forks',
      reporters: reportDir
        ? ['default', ['json', { outputFile: resolve(reportDir, `vitest-${pkg}.json`) }]]
        : ['default'],
    },
  };
}
