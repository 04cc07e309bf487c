// Adds up the vitest JSON reports under a folder and prints one line: "N passed, N failed[, N skipped]".
// Before it, one line per failed test (its report, file and name, and the first line of its
// message, shortened), so that the tail of a CI log says which test failed and why.
// Exits non-zero when a test failed or no test ran at all.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = process.argv[2];
if (!root) {
  console.error('usage: node scripts/test-totals.mjs <report-dir>');
  process.exit(2);
}
const files = [];
const walk = (dir) => {
  for (const f of readdirSync(dir)) {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) walk(p);
    else if (f.endsWith('.json') && f.startsWith('vitest')) files.push(p);
  }
};
walk(root);
let passed = 0;
let failed = 0;
let skipped = 0;
const failures = [];
/** The first line of a failure message, without ANSI colours, at most `max` characters. */
const firstLine = (msg, max = 400) => {
  const line =
    String(msg ?? '')
      .replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g'), '')
      .split('\n')
      .find((l) => l.trim()) ?? '';
  return line.length > max ? `${line.slice(0, max)}...` : line.trim();
};
for (const f of files) {
  const r = JSON.parse(readFileSync(f, 'utf8'));
  const run = relative(root, f);
  for (const suite of r.testResults ?? []) {
    const file = suite.name ? relative(process.cwd(), suite.name) : '?';
    const failedHere = (suite.assertionResults ?? []).filter((a) => a.status === 'failed');
    for (const a of failedHere)
      failures.push(
        `FAILED [${run}] ${file} > ${a.fullName ?? a.title}: ${firstLine(a.failureMessages?.[0])}`,
      );
    // a file that failed to load (syntax error, failing import) has no failed assertion
    if (suite.status === 'failed' && failedHere.length === 0)
      failures.push(
        `FAILED [${run}] ${file}: ${firstLine(suite.message) || 'the file failed without a failed test'}`,
      );
  }
  passed += r.numPassedTests ?? 0;
  failed += (r.numFailedTests ?? 0) || (r.numFailedTestSuites ?? 0);
  skipped += (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
}
for (const line of failures.slice(0, 30)) console.log(line);
if (failures.length > 30) console.log(`... and ${failures.length - 30} more failures`);
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
