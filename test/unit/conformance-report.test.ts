import { describe, expect, it } from 'vitest';
import { caseRows, formatTable } from '../../src/cli/conformance-report.js';

/** The shape vitest's `--reporter=json` writes (trimmed to what the CLI reads). */
const REPORT = {
  success: false,
  testResults: [
    {
      name: '/repo/test/drivers/native.test.ts',
      status: 'failed',
      assertionResults: [
        { fullName: 'native > happy path > echo', title: 'echo', status: 'passed', duration: 12.4, failureMessages: [] },
        { fullName: 'native > exit codes > 3', title: '3', status: 'failed', duration: 40, failureMessages: ['AssertionError: expected 0 to be 3\n    at x.ts:1'] },
        { fullName: 'native > sandbox', title: 'sandbox', status: 'skipped', failureMessages: [] },
      ],
    },
    { name: '/repo/test/drivers/broken.test.ts', status: 'failed', message: 'SyntaxError: bad\nstack', assertionResults: [] },
  ],
};

describe('drivetrain conformance: the report', () => {
  it('turns a vitest JSON report into rows', () => {
    expect(caseRows(REPORT)).toEqual([
      { name: 'native > happy path > echo', result: 'passed', durationMs: 12.4 },
      { name: 'native > exit codes > 3', result: 'failed', durationMs: 40, failure: 'AssertionError: expected 0 to be 3' },
      { name: 'native > sandbox', result: 'skipped', durationMs: undefined },
      { name: '/repo/test/drivers/broken.test.ts', result: 'failed', durationMs: undefined, failure: 'SyntaxError: bad' },
    ]);
    expect(() => caseRows({ nothing: true })).toThrow(TypeError);
  });

  it('prints a table with case, result, duration and a summary', () => {
    const table = formatTable(caseRows(REPORT));
    const lines = table.split('\n');
    expect(lines[0]).toMatch(/^case\s+result\s+duration$/);
    expect(table).toMatch(/native > happy path > echo\s+passed\s+12 ms/);
    expect(table).toMatch(/native > exit codes > 3\s+failed\s+40 ms\n {4}AssertionError: expected 0 to be 3/);
    expect(table).toContain('1 passed, 2 failed, 1 other, 4 total');
  });
});
