import { defineConfig } from 'vitest/config';
import { packageTestConfig } from '../../vitest.shared';

export default defineConfig(packageTestConfig('optimizers', import.meta.dirname));
