// The gradkit command: train, eval, predict, resume, plot, export, import, info.
import { parseCommand, parseTrainArgs } from './args.js';
import { evalCommand } from './commands/evaluate.js';
import { exportCommand } from './commands/export.js';
import { importCommand } from './commands/import.js';
import { infoCommand } from './commands/info.js';
import { plotCommand } from './commands/plot.js';
import { predictCommand } from './commands/predict.js';
import { resumeRun, runTraining } from './commands/train.js';
import { coerce } from './config.js';
import { CliError, describeError } from './errors.js';
import { commandHelp } from './help.js';
import { abandonRunDirectory } from './run-dir.js';

const USAGE = `usage: gradkit <command> [flags]

commands:
  train     train a model (MNIST by default): gradkit train [--config FILE] [--model mlp|lenet5|cnn] [--epochs 6] ...
  eval      evaluate a checkpoint:            gradkit eval --checkpoint RUN_DIR [--data mnist-test|FILE.csv]
  predict   predict with a checkpoint:        gradkit predict --checkpoint RUN_DIR --input FILE (IDX, CSV, PNG, PGM)
  resume    continue an interrupted run:      gradkit resume RUN_DIR [--epochs N]
  plot      overlay the curves of runs:       gradkit plot RUN_DIR... [--out FILE.svg] [--x step|epoch]
  export    a model for PyTorch or ONNX:      gradkit export RUN_DIR --format torch|onnx --out DIR
  import    PyTorch-trained weights back:     gradkit import EXPORT_DIR --out RUN_DIR [--weights FILE]
  info      backends available here, the one chosen and why

gradkit <command> --help lists that command's flags and what they mean.
Errors: one line starting with "gradkit:"; exit 2 for usage, 1 for data, checkpoints and failed runs
(GRADKIT_DEBUG=1 adds the stack trace of an internal error).`;

/** The packages whose scripts run gradkit from another folder than the user's (see the chdir below). */
const OWN_SCRIPTS = ['@gradkit/cli', 'gradkit-monorepo'];

const COMMANDS = ['train', 'eval', 'predict', 'resume', 'plot', 'export', 'import', 'info'];
/** The commands that run on a device, registering gl first (train does so once its flags parse). */
const ON_A_DEVICE = ['eval', 'predict', 'resume', 'import', 'info'];

function unknownCommand(command: string): CliError {
  return new CliError(`unknown command '${command}' (commands: ${COMMANDS.join(', ')}; see gradkit --help)`);
}

/**
 * The CLI offers every backend, the GPU included: registers gl (gpu.js) with the others. Loaded
 * once a command is about to run, so that `--help` and a mistyped train flag answer without
 * loading gpu.js (about a 130 ms start-up).
 */
async function registerGpu(): Promise<void> {
  await import('@gradkit/kernels/gl');
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    const help = COMMANDS.includes(command) ? commandHelp(command) : null;
    if (help === null) throw unknownCommand(command);
    process.stdout.write(help);
    return;
  }
  if (ON_A_DEVICE.includes(command)) await registerGpu();
  switch (command) {
    case 'train': {
      const { config, overwrite } = parseTrainArgs(rest);
      await registerGpu();
      runTraining(config, null, undefined, { overwrite });
      return;
    }
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
    case 'info': {
      const { positionals } = parseCommand('info', rest, []);
      if (positionals.length) throw new CliError(`info: unexpected argument '${positionals[0]}'`);
      infoCommand();
      return;
    }
    case 'plot':
      plotCommand(rest);
      return;
    case 'export': // host-side files (ONNX builds the model once on the default device): no GPU needed
      exportCommand(rest);
      return;
    case 'import':
      importCommand(rest);
      return;
    default:
      throw unknownCommand(command);
  }
}

// Run from this repository's own package scripts (`npm start -- ...`, `pnpm gradkit ...`, which run
// in the package's folder), paths are the user's: resolve them where they typed. Only there: an
// installed gradkit run from a user's script (`"train": "cd exp && gradkit train --config
// run.json"`) resolves paths in the script's folder, as any command does.
if (
  process.env.INIT_CWD &&
  process.env.INIT_CWD !== process.cwd() &&
  OWN_SCRIPTS.includes(process.env.npm_package_name ?? '')
) {
  process.chdir(process.env.INIT_CWD);
}

function fail(e: unknown): void {
  abandonRunDirectory();
  const { line, code, internal } = describeError(e);
  process.stderr.write(`gradkit: ${line}\n`);
  if (process.env.GRADKIT_DEBUG === '1' && e instanceof Error && e.stack) {
    process.stderr.write(`${internal ? '' : '(GRADKIT_DEBUG) '}${e.stack}\n`);
  }
  process.exitCode = code;
}

// errors thrown outside the synchronous command (a worker, a stream) get the same one line
process.on('uncaughtException', (e) => {
  fail(e);
  process.exit(process.exitCode ?? 1);
});
process.on('unhandledRejection', (e) => {
  fail(e);
  process.exit(process.exitCode ?? 1);
});

try {
  await main(process.argv.slice(2));
} catch (e) {
  fail(e);
}
