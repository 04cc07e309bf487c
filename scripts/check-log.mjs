// The bookkeeping of the repo's script-driven test runs (the browser test, the web demo test):
// named checks printed as they finish and written as a vitest-shaped JSON report, which
// scripts/test-totals.mjs counts together with the vitest runs.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A log of checks. `record(ancestor, title, failure, ms)` adds a result (`failure` null when it
 * passed); `check(ancestor, title, fn)` runs `fn` (it throws or rejects to fail) and records it;
 * `writeReport(dir)` writes `reportFile` in vitest's JSON shape into `dir` (nothing when `dir` is
 * unset), naming `testFile` as the test file; `failed()` counts the failures.
 */
export function createCheckLog({ testFile, reportFile }) {
  const started = Date.now();
  const results = [];
  function record(ancestor, title, failure, duration) {
    results.push({
      ancestorTitles: [ancestor],
      fullName: `${ancestor} > ${title}`,
      title,
      status: failure === null ? 'passed' : 'failed',
      duration,
      failureMessages: failure === null ? [] : [failure],
    });
    const mark = failure === null ? 'ok  ' : 'FAIL';
    console.log(`${mark} ${ancestor} > ${title}${failure === null ? '' : `\n     ${failure}`}`);
  }
  async function check(ancestor, title, fn) {
    const t = Date.now();
    try {
      await fn();
      record(ancestor, title, null, Date.now() - t);
      return true;
    } catch (e) {
      record(ancestor, title, e instanceof Error ? e.message : String(e), Date.now() - t);
      return false;
    }
  }
  const failed = () => results.filter((r) => r.status === 'failed').length;
  function writeReport(dir) {
    if (!dir) return;
    const nFailed = failed();
    const report = {
      numTotalTestSuites: 1,
      numPassedTestSuites: nFailed ? 0 : 1,
      numFailedTestSuites: nFailed ? 1 : 0,
      numPendingTestSuites: 0,
      numTotalTests: results.length,
      numPassedTests: results.length - nFailed,
      numFailedTests: nFailed,
      numPendingTests: 0,
      numTodoTests: 0,
      startTime: started,
      success: nFailed === 0 && results.length > 0,
      testResults: [
        {
          assertionResults: results,
          startTime: started,
          endTime: Date.now(),
          status: nFailed ? 'failed' : 'passed',
          message: '',
          name: testFile,
        },
      ],
    };
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, reportFile), `${JSON.stringify(report, null, 2)}\n`);
  }
  return { started, results, record, check, failed, writeReport };
}
