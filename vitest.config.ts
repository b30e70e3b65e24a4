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

/**
 * Four projects (docs/testing.md): `unit`; `drivers`, each driver's own tests (image
 * publishing included) and the conformance suite against it; `integration`, the CLI, the package as installed, the README,
 * reliability and the benchmarks' smoke tests; `cluster`, the local Kubernetes API server's own.
 * `drivers` and `integration` share one engine check and one local cluster (test/setup/global-setup.ts).
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
      {
        extends: true,
        test: {
          name: 'drivers',
          include: ['test/drivers/**/*.test.ts', 'test/docker/**/*.test.ts', 'test/native/**/*.test.ts', 'test/k8s/**/*.test.ts', 'test/publish/**/*.test.ts'],
          exclude: UNIT,
          globalSetup: ['test/setup/global-setup.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/cli/**/*.test.ts', 'test/package/**/*.test.ts', 'test/readme/**/*.test.ts', 'test/reliability/**/*.test.ts', 'test/bench-smoke/**/*.test.ts'],
          exclude: UNIT,
          globalSetup: ['test/setup/global-setup.ts'],
        },
      },
      { extends: true, test: { name: 'cluster', include: ['test/k8s-server-tests/**/*.test.ts'], globalSetup: ['test/setup/engine-setup.ts'] } },
    ],
  },
});
