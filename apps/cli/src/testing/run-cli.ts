// Test-only: the built gradkit command (dist/main.js) run as a subprocess, as a user runs it, on
// the wasm backend. Shared by the CLI's subprocess tests.
import { spawn, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The built command. */
export const MAIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'main.js');

/**
 * The environment of a run: this process's, on wasm, without GRADKIT_DEBUG (stack traces) and
 * without INIT_CWD (under `npm test` the package manager sets it, and the CLI resolves paths from
 * it as a user's `npm start -- ...` needs: a test that runs the CLI in its own cwd must not pass
 * it on).
 */
export const CLI_ENV: NodeJS.ProcessEnv = { ...process.env, GRADKIT_BACKEND: 'wasm' };
delete CLI_ENV.GRADKIT_DEBUG;
delete CLI_ENV.INIT_CWD;

/** What a run printed and its exit code. */
export interface Result {
  code: number | null;
  out: string;
  err: string;
}

/** Runs `gradkit ...args` (in `cwd` when given) and waits for it. */
export function gradkit(args: readonly string[], cwd?: string): Result {
  const r = spawnSync(process.execPath, [MAIN, ...args], {
    encoding: 'utf8',
    env: CLI_ENV,
    ...(cwd ? { cwd } : {}),
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** {@link gradkit} without blocking, so that independent cases run side by side. */
export function gradkitAsync(args: readonly string[]): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], { env: CLI_ENV });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      out += s;
    });
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      err += s;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out, err }));
  });
}
