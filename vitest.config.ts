import { defineConfig } from 'vitest/config';

/** Tests that need no engine, no cluster and no global setup: `npx vitest run --project unit`. */
const UNIT = [
  'test/unit/**/*.test.ts',
  'test/fuzz/**/*.test.ts',
  'test/k8s/pure.test.ts',
  'test/k8s/options.test.ts',
  'test/native/options.test.ts',
  'test/bench-smoke/stats.test.ts',
  'test/publish/credentials.test.ts',
];

/** Each driver's own tests (image publishing included) and the conformance suite against each. */
const DRIVERS = ['test/drivers/**/*.test.ts', 'test/docker/**/*.test.ts', 'test/native/**/*.test.ts', 'test/k8s/**/*.test.ts', 'test/publish/**/*.test.ts'];

/** The local Kubernetes API server's own tests: they start the clusters they test. */
const CLUSTER = ['test/k8s-server-tests/**/*.test.ts'];

/**
 * Four projects (docs/testing.md): `unit`, `drivers`, `cluster`, and `integration`, which
 * takes every other test file (the CLI, the package as installed, the README and examples,
 * reliability, the benchmarks' smoke tests), so that no test falls outside a project.
 * `drivers` and `integration` share one engine check and one local cluster
 * (test/setup/global-setup.ts); `cluster` needs only the engine; `unit` has no global setup.
 */
export default defineConfig({
  test: {
    pool: 'forks',
    // Two cores: more workers only queue on the engine.
    maxWorkers: 3,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    teardownTimeout: 60_000,
    projects: [
      // An engine nobody answers at: a unit test that reaches for Docker fails here, not later.
      { extends: true, test: { name: 'unit', include: UNIT, env: { DOCKER_HOST: 'unix:///nonexistent/unit-tests-need-no-engine.sock' } } },
      { extends: true, test: { name: 'drivers', include: DRIVERS, exclude: UNIT, globalSetup: ['test/setup/global-setup.ts'] } },
      { extends: true, test: { name: 'cluster', include: CLUSTER, globalSetup: ['test/setup/engine-setup.ts'] } },
      {
        extends: true,
        test: { name: 'integration', include: ['test/**/*.test.ts'], exclude: [...UNIT, ...DRIVERS, ...CLUSTER, '**/node_modules/**'], globalSetup: ['test/setup/global-setup.ts'] },
      },
    ],
  },
});
