// The gradkit command: train, eval, predict, resume, info.
import { GradkitError } from '@gradkit/tensor';
import { parseCommand, parseTrainArgs } from './args.js';
import { evalCommand } from './commands/evaluate.js';
import { infoCommand } from './commands/info.js';
import { plotCommand } from './commands/plot.js';
import { predictCommand } from './commands/predict.js';
import { resumeRun, runTraining } from './commands/train.js';
import { CONFIG_KEYS, coerce, DEFAULTS, flagName } from './config.js';
import { CliError } from './errors.js';

const USAGE = `usage: gradkit <command> [flags]

commands:
  train     train a model (MNIST by default): gradkit train [--config FILE] [--epochs 5] [--hidden 256] ...
  eval      evaluate a checkpoint:            gradkit eval --checkpoint RUN_DIR [--data mnist-test|FILE.csv]
  predict   predict with a checkpoint:        gradkit predict --checkpoint RUN_DIR --input FILE (IDX, CSV, PNG, PGM)
  resume    continue an interrupted run:      gradkit resume RUN_DIR [--epochs N]
  plot      overlay the curves of runs:       gradkit plot RUN_DIR... [--out FILE.svg] [--x step|epoch]
  info      backends available here, the one chosen and why

gradkit train --help lists every training flag.`;

function trainHelp(): string {
  const lines = CONFIG_KEYS.map((k) => {
    const d = DEFAULTS[k];
    return `  ${flagName(k).padEnd(20)} default ${JSON.stringify(d)}`;
  });
  return `usage: gradkit train [--config FILE.json] [flags]\n\nflags (also keys of the JSON config file):\n${lines.join('\n')}\n`;
}

function main(argv: string[]): void {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(command === 'train' ? trainHelp() : `${USAGE}\n`);
    return;
  }
  switch (command) {
    case 'train':
      runTraining(parseTrainArgs(rest));
      return;
    case 'eval':
      evalCommand(rest);
      return;
    case 'predict':
      predictCommand(rest);
      return;
    case 'resume': {
      const { flags, positionals } = parseCommand('resume', rest, ['--epochs']);
      if (positionals.length !== 1)
        throw new CliError('resume: expected one run directory: gradkit resume RUN_DIR [--epochs N]');
      const epochs = flags.has('--epochs')
        ? (coerce('epochs', flags.get('--epochs'), '--epochs') as number)
        : null;
      resumeRun(positionals[0], epochs);
      return;
    }
    case 'info':
      infoCommand();
      return;
    case 'plot':
      plotCommand(rest);
      return;
    default:
      throw new CliError(
        `unknown command '${command}' (commands: train, eval, predict, resume, plot, info; see gradkit --help)`,
      );
  }
}

// Run from a package script (`npm start -- ...`), paths are the user's: resolve them where they typed.
if (process.env.INIT_CWD && process.env.INIT_CWD !== process.cwd()) process.chdir(process.env.INIT_CWD);

try {
  main(process.argv.slice(2));
} catch (e) {
  if (e instanceof CliError) {
    process.stderr.write(`gradkit: ${e.message}\n`);
    process.exitCode = e.exitCode;
  } else if (e instanceof GradkitError) {
    // a typed library error (bad data file, bad checkpoint, non-finite loss): one line, no stack
    process.stderr.write(`gradkit: ${e.name}: ${e.message}\n`);
    process.exitCode = 1;
  } else {
    const err = e as NodeJS.ErrnoException;
    if (err?.code && err.message) {
      process.stderr.write(`gradkit: ${err.message}\n`);
      process.exitCode = 1;
    } else throw e;
  }
}
