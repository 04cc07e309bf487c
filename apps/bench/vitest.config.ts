import { defineConfig } from 'vitest/config';
import { packageTestConfig } from '../../vitest.shared';

// unit tests of the pure helpers only (statistics, arguments, data order, report, chart):
// no timing assertions, no contender is started
export default defineConfig(packageTestConfig('bench', import.meta.dirname));
