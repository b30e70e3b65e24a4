import type { TestDriverOptions } from '../harness.js';

/** The built-in drivers the suite runs against as they are shipped. */
export type BuiltInDriverName = 'docker' | 'native' | 'k8s';

/**
 * What each built-in driver's conformance run sets beyond the defaults: the options its
 * driver gets on top of `namespace`, and the suite's own settings. Shared by the package's
 * runner (`drivetrain conformance`) and this project's test/drivers files.
 */
export const DRIVER_SETTINGS: Readonly<Record<BuiltInDriverName, { options: Record<string, unknown>; suite: Pick<TestDriverOptions, 'timeoutMs'> }>> = {
  docker: { options: {}, suite: {} },
  native: { options: {}, suite: {} },
  // A missing image fails after 15 s of ErrImagePull/ImagePullBackOff rather than the default 2 min;
  // pods are scheduled, pulled and started: every case gets more room than on Docker.
  k8s: { options: { pullTimeoutMs: 15_000 }, suite: { timeoutMs: 120_000 } },
};
