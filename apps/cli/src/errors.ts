import { GradkitError } from '@gradkit/tensor';

/** A usage or input error: printed as one line, exit code 2. */
export class CliError extends Error {
  override name = 'CliError';
  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super(message);
  }
}

/** Messages of the errors JavaScript engines throw when an allocation fails. */
const OUT_OF_MEMORY =
  /Invalid typed array length|Array buffer allocation failed|Invalid array length|Invalid string length|WebAssembly\.Memory|Maximum memory size|Out of memory|Cannot allocate memory/i;

/**
 * The one line (and exit code) an error becomes: `gradkit: <message>`. A usage error exits 2;
 * data, checkpoint and run errors exit 1; anything unexpected is an internal error (exit 1),
 * whose stack trace only GRADKIT_DEBUG=1 shows.
 */
export function describeError(e: unknown): { line: string; code: number; internal: boolean } {
  const oneLine = (s: string) => s.replace(/\s*[\r\n]+\s*/g, ' ').trim();
  if (e instanceof CliError) return { line: oneLine(e.message), code: e.exitCode, internal: false };
  // a typed library error (bad data file, bad checkpoint, non-finite loss): one line, no stack
  if (e instanceof GradkitError)
    return { line: oneLine(`${e.name}: ${e.message}`), code: 1, internal: false };
  const err = e as NodeJS.ErrnoException | null;
  const message = oneLine(String(err?.message ?? e));
  if (err instanceof RangeError && OUT_OF_MEMORY.test(message)) {
    return {
      line: `out of memory (${message}): the model, a batch or the data is too large for this machine; lower --hidden or --batch-size (gradkit info shows the largest array per backend)`,
      code: 1,
      internal: false,
    };
  }
  // a file-system error (EACCES, ENOSPC, EISDIR, ...): its message names the path
  const errno = (e as { code?: unknown } | null)?.code;
  if (typeof errno === 'string' && /^E[A-Z]+$/.test(errno))
    return { line: message, code: 1, internal: false };
  return {
    line: `internal error: ${message} (please report; GRADKIT_DEBUG=1 shows the stack)`,
    code: 1,
    internal: true,
  };
}
