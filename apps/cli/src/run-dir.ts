// Run directories: what `train` may write into, what `resume` may continue, and the cleanup of a
// directory that a failed invocation created.
import { existsSync, lstatSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CliError } from './errors.js';

/** The files and directories gradkit writes in a run directory. */
export const RUN_FILES: readonly string[] = [
  'config.json',
  'metrics.jsonl',
  'curves.svg',
  'summary.json',
  'checkpoints',
];

/** Paths in a run directory that must not be symbolic links when gradkit writes there. */
const WRITTEN_PATHS: readonly string[] = [
  ...RUN_FILES,
  join('checkpoints', 'last'),
  join('checkpoints', 'best'),
];

/** How `train` uses its output directory. */
export type RunDirMode = 'new' | 'overwrite' | 'resume';

function lstatOrNull(path: string) {
  try {
    return lstatSync(path);
  } catch {
    return null;
  }
}

/**
 * Checks, before any data is read or anything written, that `out` can be used:
 * - `new`: `out` does not exist, or is an empty directory;
 * - `overwrite` (`--overwrite`): `out` does not exist or is a directory (its run files are
 *   replaced by {@link clearRunFiles}, other files are left alone);
 * - `resume`: none of the paths gradkit writes (`config.json`, `metrics.jsonl`, `curves.svg`,
 *   `summary.json`, `checkpoints/`, `checkpoints/last`, `checkpoints/best`) is a symbolic link:
 *   a link planted there would make gradkit write outside the run directory.
 *
 * @throws {CliError} exit 2 for a bad `--out`, exit 1 for a run directory with a planted link.
 */
export function checkRunDirectory(out: string, mode: RunDirMode): void {
  const st = lstatOrNull(out);
  if (mode === 'resume') {
    for (const p of WRITTEN_PATHS) {
      if (lstatOrNull(join(out, p))?.isSymbolicLink())
        throw new CliError(
          `resume: ${join(out, p)} is a symbolic link; gradkit does not write through links in a run directory`,
          1,
        );
    }
    return;
  }
  if (st === null) return;
  // `out` itself may be a link to a directory (the user's own path); it must lead to a directory
  if (!existsSync(out)) throw new CliError(`--out ${out}: a dangling symbolic link`);
  if (!statSync(out).isDirectory()) throw new CliError(`--out ${out}: exists and is not a directory`);
  let entries: string[];
  try {
    entries = readdirSync(out);
  } catch (e) {
    throw new CliError(`--out ${out}: ${(e as Error).message}`);
  }
  if (mode === 'new' && entries.length > 0) {
    throw new CliError(
      `--out ${out}: the directory exists and is not empty; pass --overwrite to replace its run files, ` +
        `'gradkit resume ${out}' to continue its run, or another --out`,
    );
  }
}

/**
 * Removes gradkit's run files from `out` (`--overwrite`): symbolic links are removed as links,
 * never followed; other files stay.
 */
export function clearRunFiles(out: string): void {
  for (const name of RUN_FILES) rmSync(join(out, name), { recursive: true, force: true });
  for (const name of readdirSync(out)) {
    // temporary files of an interrupted atomic write of a run file
    if (/^(config\.json|metrics\.jsonl|curves\.svg|summary\.json)\.tmp-\d+-[0-9a-z]*$/.test(name))
      rmSync(join(out, name), { force: true });
  }
}

let created: string | null = null;
let createdFor: string | null = null;

/**
 * Creates `out` (and missing parents), remembering the top-most directory this invocation
 * created, so {@link abandonRunDirectory} can remove it if the run fails before it has a
 * checkpoint.
 */
export function createRunDirectory(out: string): void {
  const first = mkdirSync(out, { recursive: true });
  created = first ?? null;
  createdFor = out;
}

/** The run finished (or reached a state worth keeping): its directory stays whatever happens next. */
export function keepRunDirectory(): void {
  created = null;
  createdFor = null;
}

/**
 * After a failure: removes the run directory this invocation created when it holds no
 * checkpoint to resume from (a setup failure, or a run that failed in its first epoch), so no
 * empty or useless run directory is left behind. A directory that existed before is never
 * removed.
 */
export function abandonRunDirectory(): void {
  if (created !== null && createdFor !== null && !existsSync(join(createdFor, 'checkpoints', 'last'))) {
    try {
      rmSync(created, { recursive: true, force: true });
    } catch {
      // best effort: the error being reported matters more
    }
  }
  keepRunDirectory();
}

/** `base`, or `base-2`, `base-3`, ... : the first that does not exist (default run directories). */
export function unusedPath(base: string): string {
  if (lstatOrNull(base) === null) return base;
  for (let i = 2; ; i++) if (lstatOrNull(`${base}-${i}`) === null) return `${base}-${i}`;
}
