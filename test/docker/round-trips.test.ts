import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { describe, expect, it } from 'vitest';
import { finish, openDriver } from './helpers.js';

/** The engine requests a driver makes, in the order they complete, container IDs shortened to `ID`. */
function recordRequests(namespace: string): { requests: string[]; stop: () => void } {
  const requests: string[] = [];
  const listen = (message: unknown): void => {
    const event = message as { namespace: string; operation: string };
    if (event.namespace === namespace) requests.push(event.operation.replace(/[0-9a-f]{64}/, 'ID').replace(/_owner-[^/]+$/, '_owner-X'));
  };
  subscribe('drivetrain:engine:request', listen);
  return { requests, stop: () => void unsubscribe('drivetrain:engine:request', listen) };
}

describe('docker driver: round trips of a task', () => {
  it('a task without services makes no look for services after its exit or at cleanup, and close lists containers and volumes once each', async () => {
    // The background reap of orphans (its own lists, when the driver is created) is not the task's.
    // A lease of its own: its owner record is its own, not shared with other drivers of the process.
    const driver = openDriver({ reapOrphans: false, ownerLeaseSeconds: 603 });
    const recorder = recordRequests(driver.namespace);
    try {
      const container = await driver.runContainer({ id: 'plain', image: 'busybox', command: ['echo', 'hi'] });
      expect((await finish(container)).stdout).toBe('hi\n');
      const beforeCleanup = recorder.requests.length;
      await container.cleanup();
      const beforeClose = recorder.requests.length;
      await driver.close();
      const run = recorder.requests.slice(0, beforeClose);
      // The image's user (for the scratch directory) is asked once, beside the create.
      expect(run.filter((r) => r === 'GET /images/busybox/json')).toHaveLength(1);
      expect(run.filter((r) => r === 'POST /containers/create')).toHaveLength(1);
      // The owner record, written once before the first container: the process's heartbeat and the namespace's mark.
      expect(run.filter((r) => r === 'POST /volumes/create')).toHaveLength(2);
      // No container list until close: looking for services is for tasks that have them.
      expect(run.filter((r) => r === 'GET /containers/json')).toEqual([]);
      expect(recorder.requests.slice(beforeCleanup, beforeClose)).toEqual(['DELETE /containers/ID']);
      // The sweep removes the mark with the namespace; the record's last driver removes its heartbeat.
      expect(recorder.requests.slice(beforeClose).sort()).toEqual([`DELETE /volumes/dt-${driver.namespace}_owner-X`, 'DELETE /volumes/dt_owner-X', 'GET /containers/json', 'GET /volumes']);
    } finally {
      recorder.stop();
    }
  });
});
