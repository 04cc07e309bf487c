import type { TrainConfig } from './config.js';
import {
  applyModel,
  CONFIG_KEYS,
  coerce,
  DEFAULTS,
  flagName,
  keyOfFlag,
  readConfigFile,
  validateConfig,
} from './config.js';
import { CliError } from './errors.js';

/** Flags and positional arguments of one command line (after the subcommand). */
export interface ParsedArgs {
  readonly flags: Map<string, string>;
  readonly positionals: string[];
}

/** Splits `--name value`, `--name=value` and bare `--switch` (value ''), rejecting repeats. */
export function splitArgs(argv: readonly string[], switches: readonly string[] = []): ParsedArgs {
  const flags = new Map<string, string>();
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) {
      positionals.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = eq >= 0 ? a.slice(0, eq) : a;
    let value: string;
    if (eq >= 0) value = a.slice(eq + 1);
    else if (switches.includes(name) && (argv[i + 1] === undefined || argv[i + 1].startsWith('--')))
      value = '';
    else {
      if (argv[i + 1] === undefined || argv[i + 1].startsWith('--'))
        throw new CliError(`${name}: needs a value`);
      value = argv[++i];
    }
    if (flags.has(name)) throw new CliError(`${name}: given twice`);
    flags.set(name, value);
  }
  return { flags, positionals };
}

/** Splits a subcommand's arguments and rejects any flag not in `allowed`, naming the command. */
export function parseCommand(
  command: string,
  argv: readonly string[],
  allowed: readonly string[],
): ParsedArgs {
  const parsed = splitArgs(argv);
  for (const f of parsed.flags.keys())
    if (!allowed.includes(f)) throw new CliError(`${command}: unknown flag ${f}`);
  return parsed;
}

/** What `gradkit train` was told: the merged, checked config and the flags that are not config. */
export interface TrainArgs {
  readonly config: TrainConfig;
  /** `--overwrite`: a non-empty `--out` may be reused (its run files are replaced). */
  readonly overwrite: boolean;
}

/**
 * `gradkit train` flags: every config key as `--kebab-case`, plus `--config FILE` and the
 * `--overwrite` switch. Defaults, then the file, then the flags; the result is validated.
 */
export function parseTrainArgs(argv: readonly string[]): TrainArgs {
  const { flags, positionals } = splitArgs(argv, ['--nesterov', '--overwrite']);
  if (positionals.length)
    throw new CliError(`train: unexpected argument '${positionals[0]}' (flags start with --)`);
  let config: TrainConfig = { ...DEFAULTS };
  // the keys the user gave (file or flags): the others may take the model's defaults
  const given = new Set<keyof TrainConfig>();
  const file = flags.get('--config');
  if (file !== undefined) {
    const fromFile = readConfigFile(file);
    for (const k of Object.keys(fromFile)) given.add(k as keyof TrainConfig);
    config = { ...config, ...fromFile };
    flags.delete('--config');
  }
  let overwrite = false;
  if (flags.has('--overwrite')) {
    const v = flags.get('--overwrite');
    if (v !== '' && v !== 'true' && v !== 'false')
      throw new CliError(`--overwrite: a switch (or --overwrite=true|false), got ${JSON.stringify(v)}`);
    overwrite = v !== 'false';
    flags.delete('--overwrite');
  }
  for (const [flag, value] of flags) {
    const key = keyOfFlag(flag);
    if (!key) {
      const near = CONFIG_KEYS.map(flagName).filter((f) => f.includes(flag.slice(2, 5)));
      throw new CliError(
        `unknown flag ${flag}${near.length ? ` (did you mean ${near.slice(0, 3).join(', ')}?)` : ''}; see gradkit train --help`,
      );
    }
    (config as unknown as Record<string, unknown>)[key] = coerce(key, value, flag);
    given.add(key);
  }
  config = applyModel(config, given);
  validateConfig(config);
  return { config, overwrite };
}
