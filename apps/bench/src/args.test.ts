import { describe, expect, it } from 'vitest';
import { ArgError, parseArgs, selects } from './args.js';

describe('parseArgs', () => {
  it('defaults: every workload, every contender, full time limit', () => {
    const o = parseArgs([]);
    expect(o.quick).toBe(false);
    expect(o.only).toEqual(['matmul', 'micro', 'conv', 'mnist', 'cnn']);
    expect(o.contenders).toBeNull();
    expect(o.timeLimitS).toBe(120);
    expect(o.cnnTimeLimitS).toBe(240);
    expect(o.out).toBe('bench-results');
    expect(o.brainActivation).toBe('relu');
  });

  it('ignores the -- that pnpm passes, reads quick, lists and values', () => {
    const o = parseArgs([
      '--',
      '--quick',
      '--only',
      'mnist,matmul',
      '--contenders=gradkit-cpu,tfjs',
      '--time-limit',
      '0',
    ]);
    expect(o.quick).toBe(true);
    expect(o.only).toEqual(['mnist', 'matmul']);
    expect(o.contenders).toEqual(['gradkit-cpu', 'tfjs']);
    expect(o.timeLimitS).toBe(0);
    expect(o.cnnTimeLimitS).toBe(0); // an explicit limit applies to both epochs
  });

  it('quick mode has its own default time limit; GRADKIT_BENCH_OUT sets the directory', () => {
    expect(parseArgs(['--quick']).timeLimitS).toBe(20);
    expect(parseArgs(['--quick']).cnnTimeLimitS).toBe(4);
    expect(parseArgs(['--time-limit=60']).cnnTimeLimitS).toBe(60);
    expect(parseArgs([], { GRADKIT_BENCH_OUT: '/tmp/x' }).out).toBe('/tmp/x');
  });

  it('--backends keeps the peers and selects gradkit backends', () => {
    expect(parseArgs(['--backends', 'cpu']).contenders).toEqual([
      'js-loop',
      'tfjs',
      'brain',
      'torch',
      'gradkit-cpu',
    ]);
  });

  it('rejects unknown arguments, workloads and bad values', () => {
    expect(() => parseArgs(['--fast'])).toThrow(ArgError);
    expect(() => parseArgs(['--only', 'lenet'])).toThrow(/unknown workload 'lenet'/);
    expect(parseArgs(['--only', 'conv']).only).toEqual(['conv']);
    expect(parseArgs(['--only', 'cnn,mnist']).only).toEqual(['cnn', 'mnist']);
    expect(() => parseArgs(['--time-limit', '-1'])).toThrow(/seconds >= 0/);
    expect(() => parseArgs(['--contenders'])).toThrow(/needs a value/);
    expect(() => parseArgs(['--brain-activation', 'softmax'])).toThrow(/brain-activation/);
  });
});

describe('parseArgs --browser', () => {
  it('is off by default and on with --browser, beside --quick, --contenders and --out', () => {
    expect(parseArgs([]).browser).toBe(false);
    const o = parseArgs(['--', '--browser', '--quick', '--contenders', 'gradkit-wasm,tfjs-webgl', '--out=x']);
    expect(o.browser).toBe(true);
    expect(o.quick).toBe(true);
    expect(o.contenders).toEqual(['gradkit-wasm', 'tfjs-webgl']);
    expect(o.out).toBe('x');
  });
});

describe('selects', () => {
  it('matches ids exactly or by family prefix', () => {
    expect(selects(null, 'tfjs-wasm')).toBe(true);
    expect(selects(['tfjs'], 'tfjs-wasm')).toBe(true);
    expect(selects(['tfjs-cpu'], 'tfjs-wasm')).toBe(false);
    expect(selects(['gradkit-c'], 'gradkit-cpu')).toBe(false);
  });
});
