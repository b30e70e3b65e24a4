import { randomBytes } from 'node:crypto';
import { InvalidInputError } from '../errors.js';
import { validateNamespace } from '../validate.js';

/**
 * Environment variable that starts the random namespace of `run` and `demo` when no
 * `--namespace` is given: `<prefix>-<8 hex>` instead of `dt-<8 hex>`. Lets whoever starts
 * many CLI runs (a CI job, a test suite) tell their resources from others' on a shared engine.
 */
export const NAMESPACE_PREFIX_VARIABLE = 'DRIVETRAIN_NAMESPACE_PREFIX';

/** The namespace a CLI run uses: the one given, else a random one (see {@link NAMESPACE_PREFIX_VARIABLE}). */
export function runNamespace(given: string | undefined): string | undefined {
  if (given !== undefined) return given;
  const prefix = process.env[NAMESPACE_PREFIX_VARIABLE];
  if (prefix === undefined || prefix === '') return undefined;
  const namespace = `${prefix}-${randomBytes(4).toString('hex')}`;
  try {
    validateNamespace(namespace);
  } catch (error) {
    throw new InvalidInputError(NAMESPACE_PREFIX_VARIABLE, 'lower-case letters, digits and "-" (not first), at most 31 characters', prefix, { cause: error });
  }
  return namespace;
}
