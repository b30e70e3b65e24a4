import { describe, expect, it } from 'vitest';
import type { Harness } from './harness.js';
import { runToEnd, sh } from './helpers.js';

/** Named volumes carry files from one task to the next; read-only mounts refuse writes. */
export function volumeCases(h: Harness): void {
  const literalPaths = h.capabilities.enforces.image;
  describe('volumes', () => {
    it('a file written by one task is read by another mounting the same volume', async () => {
      const driver = h.driver();
      const mounts = [{ volume: h.volumeName('test'), path: 'test' }];
      const writer = await runToEnd(driver, h.task(h.taskId('writer'), sh('printf world > ./test/hello'), { mounts }), h.signal());
      expect(writer.status).toMatchObject({ done: true, exitCode: 0 });
      const reader = await runToEnd(driver, h.task(h.taskId('reader'), sh('cat ./test/hello'), { mounts }), h.signal());
      expect(reader.status).toMatchObject({ done: true, exitCode: 0 });
      expect(reader.stdout).toBe('world');
    }, h.caseTimeoutMs);

    it('an absolute mount path inside the workDir is the same place as the relative one', async () => {
      const driver = h.driver();
      const volume = h.volumeName('abs');
      const workDir = `/tmp/drivetrain-conformance/${volume}`;
      const writer = await runToEnd(driver, h.task(h.taskId('abs-writer'), sh('printf abs > data/f'), { workDir, mounts: [{ volume, path: `${workDir}/data` }] }), h.signal());
      expect(writer.status).toMatchObject({ done: true, exitCode: 0 });
      const reader = await runToEnd(driver, h.task(h.taskId('abs-reader'), sh('cat data/f'), { mounts: [{ volume, path: 'data' }] }), h.signal());
      expect(reader.stdout).toBe('abs');
    }, h.caseTimeoutMs);

    it.skipIf(!literalPaths)(
      `a mount at an absolute path is reachable by that literal path${literalPaths ? '' : ' (not run: a host-process driver maps absolute paths under the task directory; commands see the host)'}`,
      async () => {
        const driver = h.driver();
        const volume = h.volumeName('literal');
        const path = `/mnt/drivetrain-conformance-${volume}`;
        await runToEnd(driver, h.task(h.taskId('literal-writer'), sh(`printf literal > ${path}/f`), { mounts: [{ volume, path }] }), h.signal());
        const reader = await runToEnd(driver, h.task(h.taskId('literal-reader'), sh('cat data/f'), { mounts: [{ volume, path: 'data' }] }), h.signal());
        expect(reader.stdout).toBe('literal');
      },
      h.caseTimeoutMs,
    );

    it('a read-only mount refuses writes and keeps the content', async () => {
      const driver = h.driver();
      const volume = h.volumeName('ro');
      await runToEnd(driver, h.task(h.taskId('ro-seed'), sh('printf seed > v/f'), { mounts: [{ volume, path: 'v' }] }), h.signal());
      const writer = await runToEnd(
        driver,
        h.task(h.taskId('ro-write'), sh('cat v/f; printf changed > v/f'), { mounts: [{ volume, path: 'v', readOnly: true }] }),
        h.signal(),
      );
      expect(writer.stdout).toBe('seed');
      expect(writer.status.done).toBe(true);
      expect(writer.status.exitCode).not.toBe(0);
      expect(writer.status.exitCode).not.toBeNull();
      const reader = await runToEnd(driver, h.task(h.taskId('ro-read'), sh('cat v/f'), { mounts: [{ volume, path: 'v' }] }), h.signal());
      expect(reader.stdout).toBe('seed');
    }, h.caseTimeoutMs);

    it('createVolume twice returns the same volume; cleanup is idempotent', async () => {
      const driver = h.driver();
      const name = h.volumeName('twice');
      const first = await driver.createVolume(name, { signal: h.signal() });
      const seed = await runToEnd(driver, h.task(h.taskId('vol-seed'), sh('printf kept > v/f'), { mounts: [{ volume: name, path: 'v' }] }), h.signal());
      const second = await driver.createVolume(name, { signal: h.signal() });
      expect(first.name).toBe(name);
      expect(second.name).toBe(name);
      const reader = await runToEnd(driver, h.task(h.taskId('vol-read'), sh('cat v/f'), { mounts: [{ volume: name, path: 'v' }] }), h.signal());
      expect(reader.stdout).toBe('kept');
      // A volume still used by a (finished) container may be refused by the engine: remove those first.
      await Promise.all([seed.container.cleanup({ signal: h.signal() }), reader.container.cleanup({ signal: h.signal() })]);
      await second.cleanup({ signal: h.signal() });
      await first.cleanup({ signal: h.signal() });
    }, h.caseTimeoutMs);

    it('a volume removed with cleanup comes back empty when mounted again', async () => {
      const driver = h.driver();
      const name = h.volumeName('gone');
      const volume = await driver.createVolume(name, { signal: h.signal() });
      const seed = await runToEnd(driver, h.task(h.taskId('gone-seed'), sh('printf x > v/f'), { mounts: [{ volume: name, path: 'v' }] }), h.signal());
      await seed.container.cleanup({ signal: h.signal() });
      await volume.cleanup({ signal: h.signal() });
      const reader = await runToEnd(driver, h.task(h.taskId('gone-read'), sh('test -e v/f'), { mounts: [{ volume: name, path: 'v' }] }), h.signal());
      expect(reader.status).toMatchObject({ done: true, exitCode: 1 });
    }, h.caseTimeoutMs);
  });
}
