import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The vitest config of `drivetrain conformance`: only this folder's suite, with no global
 * setup (the driver's own environment is what is tested), and Vite's cache outside the
 * package (which may sit read-only in node_modules). A plain object: `vitest/config` is only
 * a typing helper.
 */
export default {
  cacheDir: join(tmpdir(), 'drivetrain-conformance-cache'),
  test: {
    include: ['suite.{js,ts}'],
    exclude: [],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    teardownTimeout: 60_000,
  },
};
