import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { testNamespace } from '../setup/test-run.js';
import { clusterLeftovers, dockerLeftovers, EXAMPLE_TIMEOUT_MS, runExample } from './harness.js';

/** What a by-hand run of the Orchestra-style pipeline prints, the namespace aside. */
const SUMMARY = [
  '  checkout exit 0',
  '  build    exit 0',
  '  lint     exit 3 (allowed to fail)',
  '  test     exit 0',
  're-run of build by task ID: exit 0, logs identical',
  'build ran 1 time(s) (count exit 0)',
];

/** Each step's stdout and stderr, byte for byte: split, stdin passed through, the last byte included. */
const LOGS: Record<string, string> = {
  'checkout.stdout': 'checked out 1 file\n',
  'checkout.stderr': '',
  'build.stdout': 'built 63 bytes\n',
  'build.stderr': 'warning: no build cache\n',
  'lint.stdout': 'lint as uid 65534\n',
  'lint.stderr': 'lint: 1 problem\n',
  'test.stdout': 'hello from checkout\nnaïve config ✓\nlast line without newline',
  'test.stderr': '',
};

/**
 * examples/orchestra-runner: a pipeline of steps sharing a volume, stdin, split logs, a re-run
 * by task ID from a fresh driver that adopts the finished task, and close() reaping it all.
 */
export function describeOrchestraRunner(kubeconfig: () => string): void {
  describe.concurrent('examples/orchestra-runner', { timeout: EXAMPLE_TIMEOUT_MS }, () => {
    for (const driver of ['docker', 'k8s'] as const) {
      it(`runs the pipeline on ${driver}, re-runs a step by task ID without running it twice, and leaves nothing behind`, async () => {
        const namespace = testNamespace('ex-orch');
        const logs = mkdtempSync(join(tmpdir(), 'orchestra-test-'));
        const run = await runExample('orchestra-runner', ['--driver', driver, '--namespace', namespace, '--logs', logs], { KUBECONFIG: kubeconfig() });
        expect(run.stderr).toBe('');
        expect(run).toMatchObject({ code: 0 });
        expect(run.stdout.split('\n')).toEqual([`pipeline demo on ${driver}, namespace ${namespace}`, ...SUMMARY, `closed namespace ${namespace}; logs in ${logs}`, '']);
        for (const [file, content] of Object.entries(LOGS)) expect([file, readFileSync(join(logs, file), 'utf8')]).toEqual([file, content]);
        expect(driver === 'docker' ? await dockerLeftovers(namespace) : await clusterLeftovers(kubeconfig(), namespace)).toEqual([]);
      });
    }
  });
}
