import { defineConfig } from 'vitest/config';
import { packageTestConfig } from '../../vitest.shared';

const config = packageTestConfig('cli', import.meta.dirname);
// the CLI tests run the built command in a subprocess; each may train for a while
export default defineConfig({ ...config, test: { ...config.test, testTimeout: 600_000 } });
