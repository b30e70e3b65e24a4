import { describe, expect, it } from 'vitest';
import { ContainerNotFoundError, ImagePullError } from '../../src/errors.js';
import type { Harness } from './harness.js';
import { expectRejection } from './helpers.js';

/** An image that cannot be had fails the run with a typed error and leaves nothing behind. */
export function imageCases(h: Harness): void {
  const enforced = h.capabilities.enforces.image;
  describe('images', () => {
    it.skipIf(!enforced)(
      `a missing image rejects with ImagePullError and leaves nothing behind${enforced ? '' : ' (not run: capabilities.enforces.image is false)'}`,
      async () => {
        const driver = h.driver();
        const id = h.taskId('missing-image');
        const image = 'drivetrain-missing-image:latest';
        const started = Date.now();
        const error = await expectRejection(driver.runContainer({ ...h.task(id, ['true']), image }, { signal: h.signal() }), ImagePullError);
        expect(error.image).toBe(image);
        expect(Date.now() - started).toBeLessThan(h.scaled(20_000));
        await expect(driver.getContainer(id, { signal: h.signal() })).rejects.toBeInstanceOf(ContainerNotFoundError);
      },
      h.caseTimeoutMs,
    );
  });
}
