import { randomBytes } from 'node:crypto';
import { InvalidInputError } from '../errors.js';
import type { BaseDriverOptions, Logger } from '../types.js';
import { validateNamespace } from '../validate.js';

/**
 * Checks of driver options, run once in each driver's factory: each names the option and
 * what was expected, as `InvalidInputError`.
 */

/** Longest timer Node keeps (setTimeout's limit, about 24.8 days). */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** A random drivetrain namespace: `dt-` and 8 hex characters. */
export function randomNamespace(): string {
  return `dt-${randomBytes(4).toString('hex')}`;
}

/** The options object itself: `undefined` is `{}`; anything but an object is refused. */
export function optionsObject<O extends object>(options: O | undefined): O {
  if (options === undefined) return {} as O;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) throw new InvalidInputError('options', 'an object', options);
  return options;
}

/** What every driver resolves first: its namespace (a random one by default) and its logger. */
export function resolveBaseOptions(options: BaseDriverOptions): { namespace: string; logger: Logger | undefined } {
  const namespace = options.namespace ?? randomNamespace();
  validateNamespace(namespace);
  return { namespace, logger: validateLogger(options.logger) };
}

/**
 * A positive integer option, or `fallback` when absent. `unit` says what it counts: a number
 * of milliseconds must fit a timer ({@link MAX_TIMER_MS}), anything else a safe integer.
 */
export function positiveInteger(value: unknown, field: string, fallback: number, unit: 'milliseconds' | 'bytes' | 'seconds' | 'count' = 'milliseconds'): number {
  if (value === undefined) return fallback;
  const max = unit === 'milliseconds' ? MAX_TIMER_MS : Number.MAX_SAFE_INTEGER;
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0 || value > max) {
    const counted = unit === 'count' ? '' : ` number of ${unit}`;
    throw new InvalidInputError(field, `a positive integer${counted}${unit === 'milliseconds' ? ` (at most ${MAX_TIMER_MS})` : ''}`, value);
  }
  return value;
}

/** One of `allowed`, or `fallback` when absent. */
export function oneOf<T extends string>(value: unknown, field: string, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!allowed.includes(value as T)) throw new InvalidInputError(field, `one of ${allowed.join(', ')}`, value);
  return value as T;
}

/** A logger: any object with `debug`, `info`, `warn` and `error` methods. */
export function validateLogger(value: unknown, field = 'options.logger'): Logger | undefined {
  if (value === undefined) return undefined;
  const methods = ['debug', 'info', 'warn', 'error'] as const;
  if (typeof value !== 'object' || value === null || methods.some((m) => typeof (value as Record<string, unknown>)[m] !== 'function')) {
    throw new InvalidInputError(field, 'a logger with debug, info, warn and error methods (console, pino, …)', value);
  }
  return value as Logger;
}
