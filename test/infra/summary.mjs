// Prints vitest's JSON reports as closing lines: "tests: N passed, N failed, N skipped",
// one per report (the whole suite, then each other Node.js line's), each followed by the
// failed tests with the first lines of their failure, so the end of a CI log names them.
// Fails when any report is missing, has a failure, or passed nothing.
//   node test/infra/summary.mjs <report.json> [<report-node-<version>.json> …]
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

let ok = true;
for (const file of process.argv.slice(2)) {
  const line = /^report-node-(.+)\.json$/.exec(basename(file))?.[1];
  const label = line === undefined ? 'tests' : `tests on Node ${line}`;
  let report;
  try {
    report = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    console.log(`${label}: 0 passed, 1 failed (no report at ${file}: ${error.message})`);
    ok = false;
    continue;
  }
  const passed = report.numPassedTests ?? 0;
  const failed = (report.numFailedTests ?? 0) + (report.numRuntimeErrorTestSuites ?? 0);
  const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  console.log(`${label}: ${passed} passed, ${failed} failed, ${skipped} skipped`);
  for (const failure of failures(report)) console.log(`  failed: ${failure}`);
  if (failed !== 0 || report.success === false || passed === 0) ok = false;
}

/** "file > test name: first lines of the message", for each failed test or file that failed to run. */
function failures(report) {
  const found = [];
  for (const file of report.testResults ?? []) {
    const where = file.name?.replace(`${process.cwd()}/`, '') ?? '?';
    for (const test of file.assertionResults ?? []) {
      if (test.status !== 'failed') continue;
      found.push(`${where} > ${test.fullName ?? test.title}: ${firstLines(test.failureMessages?.[0])}`);
    }
    if (file.status === 'failed' && !(file.assertionResults ?? []).some((test) => test.status === 'failed')) {
      found.push(`${where}: ${firstLines(file.message)}`);
    }
  }
  return found;
}

function firstLines(text = '') {
  return text.split('\n').slice(0, 3).join(' | ').slice(0, 400);
}
process.exit(ok ? 0 : 1);
