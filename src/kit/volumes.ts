import { InvalidInputError } from '../errors.js';
import type { VolumeRef } from '../types.js';
import { validateVolumeName } from '../validate.js';

/** The name of a volume given by object or by name, validated. */
export function volumeNameOf(volume: VolumeRef, field = 'volume'): string {
  const name = typeof volume === 'string' ? volume : (volume as { name?: unknown } | null | undefined)?.name;
  validateVolumeName(name, field);
  return name;
}

/** `createVolume`'s `sizeBytes`: absent, or a positive safe integer. */
export function validateSizeBytes(sizeBytes: unknown, field = 'options.sizeBytes'): number | undefined {
  if (sizeBytes === undefined) return undefined;
  if (typeof sizeBytes !== 'number' || !Number.isSafeInteger(sizeBytes) || sizeBytes <= 0) {
    throw new InvalidInputError(field, 'a positive integer number of bytes', sizeBytes);
  }
  return sizeBytes;
}
