import { BackendError, ValueError } from '@gradkit/tensor';
import { describe, expect, it } from 'vitest';
import { CliError, describeError } from './errors.js';

// How main.ts turns any thrown value into its one `gradkit:` line and exit code.
describe('describeError', () => {
  it('usage errors keep their exit code; typed library errors are exit 1 with their class name', () => {
    expect(describeError(new CliError('--lr: must be > 0'))).toEqual({
      line: '--lr: must be > 0',
      code: 2,
      internal: false,
    });
    expect(describeError(new CliError('bad file', 1)).code).toBe(1);
    expect(describeError(new ValueError('adam', 'lr must be >= 0'))).toEqual({
      line: 'ValueError: adam: lr must be >= 0',
      code: 1,
      internal: false,
    });
    expect(describeError(new BackendError('wasm', 'out of WebAssembly memory')).line).toMatch(
      /^BackendError: /,
    );
  });

  it('allocation failures are an out-of-memory line, not an internal error', () => {
    for (const m of ['Invalid typed array length: 78400000000000', 'Array buffer allocation failed']) {
      const d = describeError(new RangeError(m));
      expect(d.code).toBe(1);
      expect(d.internal).toBe(false);
      expect(d.line).toMatch(/^out of memory \(.+\): .*lower --hidden or --batch-size/);
    }
  });

  it('file-system errors print their message (which names the path)', () => {
    const e = Object.assign(new Error("EACCES: permission denied, open '/x/config.json'"), {
      code: 'EACCES',
    });
    expect(describeError(e)).toEqual({
      line: "EACCES: permission denied, open '/x/config.json'",
      code: 1,
      internal: false,
    });
  });

  it('anything else is an internal error on one line, pointing at GRADKIT_DEBUG', () => {
    const d = describeError(new TypeError("Cannot read properties of undefined (reading 'x')"));
    expect(d).toEqual({
      line: "internal error: Cannot read properties of undefined (reading 'x') (please report; GRADKIT_DEBUG=1 shows the stack)",
      code: 1,
      internal: true,
    });
    expect(describeError(new RangeError('Maximum call stack size exceeded')).internal).toBe(true);
    expect(describeError('a thrown string').line).toMatch(/^internal error: a thrown string/);
    expect(describeError(undefined).line).toMatch(/^internal error: undefined/);
    // a message with line breaks still makes one line
    expect(describeError(new CliError('first\n  second\r\nthird')).line).toBe('first second third');
  });
});
