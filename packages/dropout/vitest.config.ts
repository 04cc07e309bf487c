import { defineConfig } from 'vitest/config';
import { packageTestConfig } from '../../vitest.shared';

export default defineConfig(packageTestConfig('dropout', import.meta.dirname));
