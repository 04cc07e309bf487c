import { DEFAULT_CNN_TIME_LIMIT_S, DEFAULT_PYTHON, DEFAULT_TIME_LIMIT_S } from './config.js';
import type { Workload } from './types.js';
import { WORKLOADS } from './types.js';

/** Command-line options of the benchmark. */
export interface BenchOptions {
  readonly quick: boolean;
  readonly only: readonly Workload[];
  /** Contender ids or prefixes (`gradkit`, `tfjs-wasm`, ...); null: all. */
  readonly contenders: readonly string[] | null;
  readonly out: string;
  readonly timeLimitS: number;
  /** The cnn epoch's limit: `--time-limit` when given, else its own default. */
  readonly cnnTimeLimitS: number;
  readonly xvfb: boolean;
  readonly python: string;
  readonly verbose: boolean;
  readonly strict: boolean;
  readonly help: boolean;
  readonly list: boolean;
  /** brain.js' activation (every layer, its output too). */
  readonly brainActivation: string;
  /** `--browser`: the browser benchmark page in headless Chromium instead of the Node contenders. */
  readonly browser: boolean;
}

export const USAGE = `usage: pnpm bench [-- options]      (or: node apps/bench/dist/main.js [options])

Measures gradkit against TensorFlow.js, brain.js, PyTorch and a plain-JS loop, in one run.

options:
  --quick                 tiny sizes (CI): every contender once, well under 2 minutes
  --only LIST             workloads, comma-separated: matmul, micro, conv, mnist, cnn (default: all)
  --contenders LIST       contender ids or prefixes, comma-separated (default: all available):
                          js-loop, gradkit (= gradkit-gl, gradkit-wasm, gradkit-cpu, ... whatever
                          the kernels report), tfjs (= tfjs-wasm, tfjs-cpu), brain (= brain-cpu,
                          brain-gpu), torch (= torch-cpu)
  --backends LIST         gradkit backends only (gl, wasm, cpu); peers stay selected
  --time-limit SECONDS    cut each MNIST and CNN epoch after this long, flagged "partial" (default:
                          MNIST ${DEFAULT_TIME_LIMIT_S.full} s, quick ${DEFAULT_TIME_LIMIT_S.quick} s; CNN ${DEFAULT_CNN_TIME_LIMIT_S.full} s, quick ${DEFAULT_CNN_TIME_LIMIT_S.quick} s; 0 = no limit)
  --out DIR               results directory (default: bench-results, or $GRADKIT_BENCH_OUT)
  --python PATH           Python with torch for the PyTorch contender
                          (default ${DEFAULT_PYTHON}, or $GRADKIT_BENCH_PYTHON)
  --brain-activation A    brain.js activation: relu (default, as the other contenders; brain.js
                          applies it to the output layer too, where it stays at chance level),
                          sigmoid (brain.js' default, which learns), leaky-relu, tanh
  --no-xvfb               do not re-run under xvfb-run when there is no X display (skips GL)
  --verbose               show every line the contender processes print
  --strict                exit 1 when a contender that was available failed
  --list                  list the contenders and whether they can run here, then exit
  --browser               the browser page instead: matmul n=512 and the MLP step for gradkit
                          gl/wasm/cpu and TF.js webgl/wasm/cpu in headless Chromium (--quick,
                          --contenders, --out and --strict apply; see README.md "In the browser")
  -h, --help              this text

output: a terminal table per workload, the target ratios of the issue, and in the results
directory <timestamp>.json, latest.json, <timestamp>.svg and latest.svg (quick: *-quick.*).`;

/** A command-line error: the message, then the usage, exit code 2. */
export class ArgError extends Error {}

function list(flag: string, v: string | undefined): string[] {
  if (v === undefined || v.startsWith('--')) throw new ArgError(`${flag} needs a value`);
  const items = v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (!items.length) throw new ArgError(`${flag} needs a value`);
  return items;
}

/** Parses the command line (`--` separators are ignored, as `pnpm bench -- --quick` passes one). */
export function parseArgs(
  argv: readonly string[],
  env: Record<string, string | undefined> = {},
): BenchOptions {
  let quick = false;
  let only: Workload[] = [...WORKLOADS];
  let contenders: string[] | null = null;
  let backends: string[] | null = null;
  let out = env.GRADKIT_BENCH_OUT || 'bench-results';
  let timeLimit: number | null = null;
  let xvfb = true;
  let python = env.GRADKIT_BENCH_PYTHON || DEFAULT_PYTHON;
  let verbose = false;
  let strict = false;
  let help = false;
  let listOnly = false;
  let brainActivation = 'relu';
  let browser = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const [flag, inline] =
      a.startsWith('--') && a.includes('=')
        ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)]
        : [a, undefined];
    const value = () => (inline !== undefined ? inline : argv[++i]);
    switch (flag) {
      case '--':
        break;
      case '--quick':
        quick = true;
        break;
      case '--only': {
        const ws = list(flag, value());
        for (const w of ws) {
          if (!(WORKLOADS as readonly string[]).includes(w))
            throw new ArgError(`--only: unknown workload '${w}' (known: ${WORKLOADS.join(', ')})`);
        }
        only = ws as Workload[];
        break;
      }
      case '--contenders':
        contenders = list(flag, value());
        break;
      case '--backends':
        backends = list(flag, value());
        break;
      case '--time-limit': {
        const v = value();
        const s = Number(v);
        if (v === undefined || v.trim() === '' || !Number.isFinite(s) || s < 0)
          throw new ArgError(`--time-limit: expected seconds >= 0, got '${v ?? ''}'`);
        timeLimit = s;
        break;
      }
      case '--out': {
        const v = value();
        if (!v) throw new ArgError('--out needs a directory');
        out = v;
        break;
      }
      case '--python': {
        const v = value();
        if (!v) throw new ArgError('--python needs a path');
        python = v;
        break;
      }
      case '--brain-activation': {
        const v = value();
        if (!v || !['relu', 'sigmoid', 'leaky-relu', 'tanh'].includes(v))
          throw new ArgError(
            `--brain-activation: expected relu, sigmoid, leaky-relu or tanh, got '${v ?? ''}'`,
          );
        brainActivation = v;
        break;
      }
      case '--no-xvfb':
        xvfb = false;
        break;
      case '--verbose':
        verbose = true;
        break;
      case '--strict':
        strict = true;
        break;
      case '--list':
        listOnly = true;
        break;
      case '--browser':
        browser = true;
        break;
      case '-h':
      case '--help':
        help = true;
        break;
      default:
        throw new ArgError(`unknown argument '${a}'`);
    }
  }
  if (backends) {
    const fromBackends = backends.map((b) => `gradkit-${b}`);
    const others = (contenders ?? ['js-loop', 'tfjs', 'brain', 'torch']).filter(
      (c) => !c.startsWith('gradkit'),
    );
    contenders = [...others, ...fromBackends];
  }
  return {
    quick,
    only,
    contenders,
    out,
    timeLimitS: timeLimit ?? (quick ? DEFAULT_TIME_LIMIT_S.quick : DEFAULT_TIME_LIMIT_S.full),
    cnnTimeLimitS: timeLimit ?? (quick ? DEFAULT_CNN_TIME_LIMIT_S.quick : DEFAULT_CNN_TIME_LIMIT_S.full),
    xvfb,
    python,
    verbose,
    strict,
    help,
    list: listOnly,
    brainActivation,
    browser,
  };
}

/** Whether a contender id is selected by a list of ids or prefixes (`gradkit` selects `gradkit-cpu`). */
export function selects(patterns: readonly string[] | null, id: string): boolean {
  if (!patterns) return true;
  return patterns.some((p) => p === id || id.startsWith(`${p}-`));
}
