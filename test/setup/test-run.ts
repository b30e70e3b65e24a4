import { randomBytes } from 'node:crypto';

/**
 * One test run's tag, so that several runs can share one Docker engine: every namespace a
 * test makes starts with `<tag>-`, and the leak check after the run (test/infra/leak-check.mjs)
 * judges exactly the resources whose namespace starts with its own run's tag. The global
 * setup sets the tag once (keeping one given by `make test`) in the environment, which the
 * test workers and every process they start inherit.
 */
export const TEST_RUN_VARIABLE = 'DRIVETRAIN_TEST_RUN';

/**
 * The CLI's own variable: `run` and `demo` without `--namespace` pick a random namespace
 * that starts with it. The global setup points it at the run's tag.
 */
export const CLI_NAMESPACE_PREFIX_VARIABLE = 'DRIVETRAIN_NAMESPACE_PREFIX';

/**
 * The Docker label, valued with the run's tag, that the run's local clusters put on every
 * container and volume they make (`dockerLabels`), so that the leak check names what a server
 * of the run left (the leak check holds the same name).
 */
export const RUN_DOCKER_LABEL = 'drivetrain-test/run';

/** `t` and 6 hex characters (the leak check holds the same pattern). */
const TAG = /^t[0-9a-f]{6}$/;

/**
 * Makes sure this process's environment holds a valid run tag and returns it: the one
 * given (by `make test`) or a fresh one. Also points the CLI's namespace prefix at it.
 */
export function establishTestRun(): string {
  const given = process.env[TEST_RUN_VARIABLE];
  if (given !== undefined && !TAG.test(given)) {
    throw new Error(`${TEST_RUN_VARIABLE}=${JSON.stringify(given)}: expected "t" and 6 hex characters (unset it to get a fresh one)`);
  }
  const tag = given ?? `t${randomBytes(3).toString('hex')}`;
  process.env[TEST_RUN_VARIABLE] = tag;
  process.env[CLI_NAMESPACE_PREFIX_VARIABLE] = `${tag}-cli`;
  return tag;
}

/** The current run's tag (set by the global setup). */
export function testRunTag(): string {
  const tag = process.env[TEST_RUN_VARIABLE];
  if (tag === undefined || !TAG.test(tag)) {
    throw new Error(`${TEST_RUN_VARIABLE} is not set: run the tests through vitest, whose global setup sets it`);
  }
  return tag;
}

/**
 * A fresh drivetrain namespace for a test: `<run tag>-<prefix>-<8 hex>`, at most 40
 * characters for a prefix of up to 22. Every test makes its namespaces here, so that the
 * leak check can tell this run's resources from those of runs beside it.
 */
export function testNamespace(prefix: string): string {
  return `${testRunTag()}-${prefix}-${randomBytes(4).toString('hex')}`;
}

/** The Docker labels of this run's local clusters: `startLocalCluster({ dockerLabels: runDockerLabels() })`. */
export function runDockerLabels(): Record<string, string> {
  return { [RUN_DOCKER_LABEL]: testRunTag() };
}
