import { describe, expect, it } from 'vitest';
import { ContainerNotFoundError, ContainerStartError } from '../../src/errors.js';
import type { Harness } from './harness.js';
import { runToEnd, sh } from './helpers.js';
import type { Finished } from './helpers.js';

const MiB = 2 ** 20;

/** user, privileged and limits are observable inside the task where the driver enforces them. */
export function enforcementCases(h: Harness): void {
  const { enforces } = h.capabilities;
  const why = (setting: keyof typeof enforces): string => (enforces[setting] ? '' : ` (not run: capabilities.enforces.${setting} is false)`);

  describe('enforced settings', () => {
    it.skipIf(!enforces.user)(`user 65534 runs as uid 65534${why('user')}`, async () => {
      const result = await runToEnd(h.driver(), h.task(h.taskId('uid'), ['id', '-u'], { user: '65534' }), h.signal());
      expect(result.status).toMatchObject({ done: true, exitCode: 0 });
      expect(result.stdout).toBe('65534\n');
    }, h.caseTimeoutMs);

    it.skipIf(!enforces.user)(`the default scratch workDir is writable for user 65534 too${why('user')}`, async () => {
      const result = await runToEnd(h.driver(), h.task(h.taskId('uid-write'), sh('touch x && echo writable'), { user: '65534' }), h.signal());
      expect(result.status).toMatchObject({ done: true, exitCode: 0 });
      expect(result.stdout).toBe('writable\n');
    }, h.caseTimeoutMs);

    it.skipIf(!enforces.user)(`user 65534:65534 sets uid and gid${why('user')}`, async () => {
      const result = await runToEnd(h.driver(), h.task(h.taskId('uid-gid'), sh('id -u; id -g'), { user: '65534:65534' }), h.signal());
      expect(result.stdout).toBe('65534\n65534\n');
    }, h.caseTimeoutMs);

    it.skipIf(!enforces.user)(`without user the image's user (root in busybox) runs${why('user')}`, async () => {
      const result = await runToEnd(h.driver(), h.task(h.taskId('root'), ['id', '-u']), h.signal());
      expect(result.stdout).toBe('0\n');
    }, h.caseTimeoutMs);

    it.skipIf(!enforces.privileged)(`only a privileged task may mount a tmpfs (or the engine refuses privileges)${why('privileged')}`, async () => {
      const driver = h.driver();
      const script = 'mkdir m && mount -t tmpfs tmpfs m && echo mounted';
      const privilegedId = h.taskId('priv');
      const [privileged, plain] = await Promise.all([
        runToEnd(driver, h.task(privilegedId, sh(script), { privileged: true }), h.signal()).catch((error: unknown) => error),
        runToEnd(driver, h.task(h.taskId('unpriv'), sh(script)), h.signal()),
      ]);
      if (privileged instanceof Error) {
        // An engine that cannot grant privileges (a rootless or confined one) must say so
        // with a typed error and leave nothing behind, never run the task unprivileged.
        expect(privileged).toBeInstanceOf(ContainerStartError);
        await expect(driver.getContainer(privilegedId, { signal: h.signal() })).rejects.toBeInstanceOf(ContainerNotFoundError);
      } else {
        expect((privileged as Finished).status).toMatchObject({ done: true, exitCode: 0 });
        expect((privileged as Finished).stdout).toBe('mounted\n');
      }
      expect(plain.status.done).toBe(true);
      expect(plain.status.exitCode).not.toBe(0);
      expect(plain.stdout).toBe('');
    }, h.caseTimeoutMs);

    it.skipIf(!enforces.cpuShares)(`cpuShares 512 is visible in the cgroup${why('cpuShares')}`, async () => {
      const script = 'if [ -f /sys/fs/cgroup/cpu/cpu.shares ]; then echo "shares $(cat /sys/fs/cgroup/cpu/cpu.shares)"; else echo "weight $(cat /sys/fs/cgroup/cpu.weight)"; fi';
      const result = await runToEnd(h.driver(), h.task(h.taskId('cpu'), sh(script), { limits: { cpuShares: 512 } }), h.signal());
      const [kind, value] = result.stdout.trim().split(' ');
      if (kind === 'shares') {
        expect(Number(value)).toBe(512);
      } else {
        // cgroup v2: runtimes map shares to a weight; half a share is below the default weight of 100.
        expect(kind).toBe('weight');
        expect(Number(value)).toBeGreaterThan(0);
        expect(Number(value)).toBeLessThan(100);
      }
    }, h.caseTimeoutMs);

    it.skipIf(!enforces.memoryBytes)(`memoryBytes 32 MiB is visible in the cgroup${why('memoryBytes')}`, async () => {
      const script = 'if [ -f /sys/fs/cgroup/memory/memory.limit_in_bytes ]; then cat /sys/fs/cgroup/memory/memory.limit_in_bytes; else cat /sys/fs/cgroup/memory.max; fi';
      const result = await runToEnd(h.driver(), h.task(h.taskId('mem'), sh(script), { limits: { memoryBytes: 32 * MiB } }), h.signal());
      expect(result.stdout.trim()).toBe(String(32 * MiB));
    }, h.caseTimeoutMs);

    it.skipIf(!enforces.memoryBytes)(`allocating past memoryBytes ends with 137 and reason OOMKilled${why('memoryBytes')}`, async () => {
      // A child shell holds 64 MiB in a variable and is killed; the task then exits with the
      // child's 137 a moment later. (When the task's first process itself is killed, Docker
      // 20.10 sometimes records the exit before the OOM event and reports OOMKilled false.)
      const script = 'sh -c \'x=$(head -c 67108864 /dev/zero | tr "\\0" a); echo survived\'; code=$?; sleep 0.2; exit $code';
      const result = await runToEnd(h.driver(), h.task(h.taskId('oom'), sh(script), { limits: { memoryBytes: 16 * MiB } }), h.signal());
      expect(result.status).toMatchObject({ done: true, exitCode: 137, reason: 'OOMKilled' });
      expect(result.stdout).not.toContain('survived');
    }, h.caseTimeoutMs);
  });
}
