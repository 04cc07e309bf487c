import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI_ENV, MAIN } from './testing/run-cli.js';

// Where relative paths resolve when a package manager runs gradkit from a script. npm and pnpm set
// INIT_CWD (the folder the user typed the command in) and npm_package_name (the package whose
// script runs). This repository's own scripts (`npm start -- ...` in apps/cli, `pnpm gradkit ...`
// at the root) run in the package's folder, so gradkit resolves paths from INIT_CWD there. An
// installed gradkit run from a user's script (`"train": "cd exp && gradkit train --config
// run.json"`) must resolve them in the script's own folder, as any command does.
//
// Two config files with different mistakes tell which one was read: `top/run.json` (INIT_CWD) and
// `top/exp/run.json` (the process's working directory).
const top = mkdtempSync(join(tmpdir(), 'gradkit-init-cwd-'));
const exp = join(top, 'exp');
mkdirSync(exp);
writeFileSync(join(top, 'run.json'), '{ "fromInitCwd": 1 }');
writeFileSync(join(exp, 'run.json'), '{ "fromScriptFolder": 1 }');
afterAll(() => rmSync(top, { recursive: true, force: true }));

/** Runs `gradkit train --config run.json` in exp/ with `env` added (CLI_ENV has no INIT_CWD). */
function trainConfig(env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, [MAIN, 'train', '--config', 'run.json'], {
    cwd: exp,
    encoding: 'utf8',
    env: { ...CLI_ENV, ...env },
  });
  return { code: r.status, err: r.stderr };
}

/** As `npm_package_name`'s script would run it from `top`. */
const fromScriptOf = (packageName: string) => trainConfig({ INIT_CWD: top, npm_package_name: packageName });

describe('relative paths under a package script', () => {
  it("a user's script: paths resolve in the script's folder, INIT_CWD is ignored", () => {
    const r = fromScriptOf('my-project');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^gradkit: --config run\.json: unknown key 'fromScriptFolder'/);
  });

  it.each(['@gradkit/cli', 'gradkit-monorepo'])('%s: paths resolve from INIT_CWD', (name) => {
    const r = fromScriptOf(name);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^gradkit: --config run\.json: unknown key 'fromInitCwd'/);
  });

  it('no package script (INIT_CWD unset): the working directory', () => {
    const r = trainConfig();
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/unknown key 'fromScriptFolder'/);
  });
});
