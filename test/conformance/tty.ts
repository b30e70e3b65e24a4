import { describe, expect, it } from 'vitest';
import { ContainerNotFoundError, UnsupportedCapabilityError } from '../../src/errors.js';
import type { Harness } from './harness.js';
import { expectRejection } from './helpers.js';

/**
 * Terminals (`tty`): a driver with `capabilities.tty` runs tasks and sandbox execs on a
 * terminal; one without refuses `tty` with `UnsupportedCapabilityError` naming the capability.
 */
export function ttyCases(h: Harness): void {
  describe('tty', () => {
    if (!h.capabilities.tty) {
      refusalCases(h);
      return;
    }
  });
}

function refusalCases(h: Harness): void {
  it('without capabilities.tty, a task with tty is refused with UnsupportedCapabilityError naming "tty", and nothing is created', async () => {
    const id = h.taskId('tty-refused');
    const error = await expectRejection(h.driver().runContainer(h.task(id, ['true'], { tty: true }), { signal: h.signal() }), UnsupportedCapabilityError);
    expect(error.capability).toBe('tty');
    expect(error.driver).toBe(h.driver().name);
    await expect(h.driver().getContainer(id, { signal: h.signal() })).rejects.toBeInstanceOf(ContainerNotFoundError);
  }, h.caseTimeoutMs);

  it.skipIf(!h.capabilities.startSandbox)(`without capabilities.tty, a sandbox exec with tty is refused with UnsupportedCapabilityError${h.capabilities.startSandbox ? '' : ' (not run: capabilities.startSandbox is false)'}`, async () => {
    const driver = h.driver();
    const sandbox = await driver.startSandbox!({ id: h.taskId('tty-refused-sandbox'), image: h.image }, { signal: h.signal() });
    const error = await expectRejection(sandbox.exec(['true'], { tty: { columns: 100, rows: 30 }, signal: h.signal() }), UnsupportedCapabilityError);
    expect(error.capability).toBe('tty');
  }, h.caseTimeoutMs);
}
