import { randomInt } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ContainerNotFoundError, NotFoundError, ServiceNotReadyError, UnsupportedCapabilityError } from '../../src/errors.js';
import { CollectingWritable } from '../../src/logs.js';
import type { Container, LogResult, Sandbox, Service, ServiceLogOptions } from '../../src/types.js';
import type { Harness } from './harness.js';
import { expectOutput, expectRejection, runToEnd, sh } from './helpers.js';

/**
 * Service containers: started before the task, ready before its process runs, reached at
 * `localhost`, their logs readable, gone with the task. Servers are busybox `nc` (`busybox nc`,
 * so the same command runs where the image's applets are not on the `PATH`, as on a host).
 * Each case listens on a random port: drivers without network isolation share the host's.
 */
export function servicesCases(h: Harness): void {
  const supported = h.capabilities.services;
  const title = (text: string): string => `${text}${supported ? '' : ' (not run: capabilities.services is false)'}`;
  // Below Linux's ephemeral range (32768–60999 by default): a host driver's service must not
  // draw a port that an outgoing connection of the same machine holds at that moment.
  const port = (): number => randomInt(20_000, 32_768);
  /** A server that answers every connection with `reply` and a newline, then closes it. */
  const replying = (name: string, listenOn: number, reply: string, settings: Partial<Service> = {}): Service => ({
    name,
    image: h.image,
    command: ['busybox', 'nc', '-ll', '-p', String(listenOn), '-e', 'echo', reply],
    ready: { tcpPort: listenOn, timeoutMs: h.scaled(20_000) },
    ...settings,
  });
  const connect = (to: number): string[] => sh(`busybox nc 127.0.0.1 ${to} </dev/null`);
  const serviceOutput = async (target: Container | Sandbox, options: Omit<ServiceLogOptions, 'stdout' | 'stderr'>): Promise<{ stdout: string; stderr: string } & LogResult> => {
    const stdout = new CollectingWritable();
    const stderr = new CollectingWritable();
    const result = await (target.logs as (o: ServiceLogOptions) => Promise<LogResult>).call(target, { ...options, stdout, stderr });
    return { stdout: stdout.text(), stderr: stderr.text(), ...result };
  };

  describe('services', () => {
    it.skipIf(supported)('a driver without capabilities.services refuses a task with services, creating nothing', async () => {
      const id = h.taskId('refused');
      const error = await expectRejection(h.driver().runContainer(h.task(id, ['true'], { services: [replying('db', port(), 'ok')] }), { signal: h.signal() }), UnsupportedCapabilityError);
      expect(error).toMatchObject({ capability: 'services' });
      await expect(h.driver().getContainer(id, { signal: h.signal() })).rejects.toBeInstanceOf(ContainerNotFoundError);
    }, h.caseTimeoutMs);

    it.skipIf(!supported)(title("a service listening on a TCP port is reached from the task at localhost; its output is read with logs({ service }), an unknown name is NotFoundError, after cleanup it is gone"), async () => {
      const listenOn = port();
      // Its output is written before it listens, so all of it is there once it is ready.
      const server = replying('echo', listenOn, 'pong', { command: sh(`echo svc-out; echo svc-err >&2; exec busybox nc -ll -p ${listenOn} -e echo pong`) });
      const { container, status, stdout } = await runToEnd(h.driver(), h.task(h.taskId('tcp'), sh(`busybox nc localhost ${listenOn} </dev/null`), { services: [server] }), h.signal());
      expect(status).toMatchObject({ done: true, exitCode: 0 });
      expect(stdout).toBe('pong\n');
      expectOutput(await serviceOutput(container, { service: 'echo', signal: h.signal() }), 'svc-out\n', 'svc-err\n');
      const unknown = await expectRejection(serviceOutput(container, { service: 'nope', signal: h.signal() }), NotFoundError);
      expect(unknown.message).toContain('"nope"');
      await container.cleanup({ signal: h.signal() });
      await expect(serviceOutput(container, { service: 'echo', signal: h.signal() })).rejects.toBeInstanceOf(NotFoundError);
    }, h.caseTimeoutMs);

    it.skipIf(!supported)(title('readiness by command: the task starts only once the check passes'), async () => {
      const listenOn = port();
      // The server starts listening late: a task started before the check passed is refused.
      const late: Service = {
        name: 'late',
        image: h.image,
        command: sh(`sleep 0.5; exec busybox nc -ll -p ${listenOn} -e echo up`),
        ready: { command: sh(`busybox nc 127.0.0.1 ${listenOn} </dev/null | grep -q up`), timeoutMs: h.scaled(20_000) },
      };
      const { status, stdout } = await runToEnd(h.driver(), h.task(h.taskId('ready-cmd'), connect(listenOn), { services: [late] }), h.signal());
      expect(status).toMatchObject({ done: true, exitCode: 0 });
      expect(stdout).toBe('up\n');
    }, h.caseTimeoutMs);

    it.skipIf(!supported)(title('a service that never gets ready fails the start with ServiceNotReadyError naming it, leaving nothing behind'), async () => {
      const driver = h.driver();
      const id = h.taskId('unready');
      const listenOn = port();
      // Any short timeout: the service never listens, however slow the engine.
      const silent: Service = { name: 'silent', image: h.image, command: ['sleep', '300'], ready: { tcpPort: listenOn, timeoutMs: 1_000 } };
      const error = await expectRejection(driver.runContainer(h.task(id, ['true'], { services: [replying('fine', port(), 'ok'), silent] }), { signal: h.signal() }), ServiceNotReadyError);
      expect(error).toMatchObject({ service: 'silent', reason: 'Timeout' });
      expect(error.message).toContain('"silent"');
      await expect(driver.getContainer(id, { signal: h.signal() })).rejects.toBeInstanceOf(ContainerNotFoundError);
      // The same task ID starts afresh, its service on the same port: nothing of the failed start holds either.
      const again = await runToEnd(driver, h.task(id, connect(listenOn), { services: [replying('silent', listenOn, 'second')] }), h.signal());
      expect(again).toMatchObject({ status: { done: true, exitCode: 0 }, stdout: 'second\n' });
    }, h.caseTimeoutMs);

    it.skipIf(!supported)(title('a service that ends before it is ready fails the start with reason Exited'), async () => {
      const driver = h.driver();
      const id = h.taskId('exits');
      const crashing: Service = { name: 'crashing', image: h.image, command: sh('exit 3'), ready: { tcpPort: port(), timeoutMs: h.scaled(20_000) } };
      const error = await expectRejection(driver.runContainer(h.task(id, ['true'], { services: [crashing] }), { signal: h.signal() }), ServiceNotReadyError);
      expect(error).toMatchObject({ service: 'crashing', reason: 'Exited' });
      await expect(driver.getContainer(id, { signal: h.signal() })).rejects.toBeInstanceOf(ContainerNotFoundError);
    }, h.caseTimeoutMs);

    it.skipIf(!supported || !h.capabilities.startSandbox)(title('a sandbox takes services: each exec reaches them at localhost, their logs are readable'), async () => {
      const listenOn = port();
      const sandbox = await h.driver().startSandbox!({ id: h.taskId('sandbox-svc'), image: h.image, services: [replying('web', listenOn, 'hello')] }, { signal: h.signal() });
      for (let i = 0; i < 2; i++) {
        const stdout = new CollectingWritable();
        expect(await sandbox.exec(connect(listenOn), { stdout, signal: h.signal() })).toMatchObject({ done: true, exitCode: 0 });
        expect(stdout.text()).toBe('hello\n');
      }
      const logs = await serviceOutput(sandbox, { service: 'web', signal: h.signal() });
      expect(logs.stderr).toBe('');
      await sandbox.cleanup({ signal: h.signal() });
      await expect(serviceOutput(sandbox, { service: 'web', signal: h.signal() })).rejects.toBeInstanceOf(NotFoundError);
    }, h.caseTimeoutMs);
  });
}
