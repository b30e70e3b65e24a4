import { DrivetrainError, InvalidInputError } from '../errors.js';
import { EXIT } from './exit-codes.js';
import { UsageError } from './usage.js';

/**
 * Prints an error the way the CLI reports every failure — `drivetrain: <message>` on
 * stderr — and returns the exit code it stands for.
 * @param failureCode the code for a drivetrain error (1, or 125 where a task could not run)
 */
export function reportError(error: unknown, failureCode: number = EXIT.failure): number {
  if (error instanceof UsageError) {
    process.stderr.write(`drivetrain: ${error.message}\n\n${error.usage}`);
    return EXIT.usage;
  }
  if (error instanceof InvalidInputError) {
    process.stderr.write(`drivetrain: ${error.message} (field: ${error.field})\n`);
    return failureCode;
  }
  if (error instanceof DrivetrainError) {
    process.stderr.write(`drivetrain: ${error.message} [${error.code}]\n`);
    return failureCode;
  }
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`drivetrain: unexpected error: ${message}\n`);
  return failureCode;
}
