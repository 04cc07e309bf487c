// Entry of a worker process: runs one contender's job (spec file in argv[2]) and writes its result.
// It imports only the chosen contender's module, so a TF.js worker's memory holds no gradkit code.
import { readFileSync, writeFileSync } from 'node:fs';
import type { WorkerResult, WorkerSpec } from './types.js';

/** Worker side: runs the job in `specFile` and writes the result file. */
async function workerMain(specFile: string): Promise<void> {
  const spec = JSON.parse(readFileSync(specFile, 'utf8')) as WorkerSpec;
  let result: WorkerResult;
  try {
    switch (spec.kind) {
      case 'js-loop': {
        const { runNaive } = await import('./matmul.js');
        result = { ok: true, matmul: runNaive(spec.sizes.matmulNs, spec.sizes.matmul), micro: [] };
        break;
      }
      case 'gradkit':
        result = await (await import('./workers/gradkit.js')).run(spec);
        break;
      case 'tfjs':
        result = await (await import('./workers/tfjs.js')).run(spec);
        break;
      case 'brain':
        result = await (await import('./workers/brain.js')).run(spec);
        break;
      default:
        throw new Error(`no JavaScript worker for ${spec.kind}`);
    }
  } catch (e) {
    const err = e as Error;
    process.stderr.write(`${err.stack ?? String(err)}\n`);
    result = { ok: false, error: `${err.name}: ${err.message}` };
  }
  writeFileSync(spec.resultFile, JSON.stringify(result));
  // some libraries keep handles open (gpu.js, TF.js wasm); the result is written, so leave now
  process.exit(0);
}

await workerMain(process.argv[2]);
