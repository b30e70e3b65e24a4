import { randomBytes } from 'node:crypto';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { createDockerDriver } from '../../drivers/docker/index.js';
import { createK8sDriver } from '../../drivers/k8s/index.js';
import { createNativeDriver } from '../../drivers/native/index.js';
import { CHANNELS, type EventName, type EventPayloads } from '../../src/kit/events.js';
import type { Driver, Logger } from '../../src/types.js';
import { testNamespace } from '../setup/test-run.js';

/**
 * The lifecycle events of a real run on each driver, as a subscriber to the diagnostics
 * channels and a `logger` see them; and that no payload or log line holds an env value.
 */

interface Seen {
  name: EventName;
  event: EventPayloads[EventName] & Record<string, unknown>;
}

const kubeconfig = inject('kubeconfig');
const TIMEOUT = 120_000;

/** Every event published on any drivetrain channel while a case runs, whatever its namespace. */
let seen: Seen[] = [];
let stop: Array<() => void> = [];

beforeEach(() => {
  seen = [];
  stop = (Object.keys(CHANNELS) as EventName[]).map((name) => {
    const handler = (message: unknown): void => void seen.push({ name, event: message as Seen['event'] });
    subscribe(CHANNELS[name], handler);
    return () => void unsubscribe(CHANNELS[name], handler);
  });
});

afterEach(() => {
  for (const each of stop) each();
});

/** A logger that keeps every call. */
function recordingLogger(): Logger & { calls: Array<{ level: string; args: unknown[] }> } {
  const calls: Array<{ level: string; args: unknown[] }> = [];
  const at = (level: string) => (...args: unknown[]) => void calls.push({ level, args });
  return { calls, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

const drivers: Array<{ name: string; create: (namespace: string, logger: Logger) => Driver; engine: boolean }> = [
  { name: 'native', create: (namespace, logger) => createNativeDriver({ namespace, logger }), engine: false },
  { name: 'docker', create: (namespace, logger) => createDockerDriver({ namespace, logger }), engine: true },
  { name: 'k8s', create: (namespace, logger) => createK8sDriver({ namespace, logger, kubeconfig }), engine: true },
];

describe.each(drivers)('lifecycle events: $name', ({ name, create, engine }) => {
  it('a run publishes start, started, exited, cleaned up and the close, in order; no payload or log line holds an env value', async () => {
    const namespace = testNamespace('ev');
    const logger = recordingLogger();
    const driver = create(namespace, logger);
    const secret = `s3cret-${randomBytes(8).toString('hex')}`;
    const taskId = `events-${randomBytes(3).toString('hex')}`;
    const signal = AbortSignal.timeout(TIMEOUT - 10_000);
    try {
      // The command reads the value from its environment: the secret is only in `env`.
      const container = await driver.runContainer({ id: taskId, image: 'busybox', command: ['sh', '-c', 'test -n "$TOKEN" && exit 3'], env: { TOKEN: secret } }, { signal });
      expect(await container.wait({ signal })).toMatchObject({ done: true, exitCode: 3 });
      await container.cleanup({ signal });
    } finally {
      await driver.close({ signal });
    }

    const mine = seen.filter(({ event }) => event.namespace === namespace);
    const order = mine.map(({ name: event }) => event).filter((event) => event !== 'engineRequest' && event !== 'engineRetry' && event !== 'taskWaiting');
    expect(order).toEqual(['taskStart', 'taskStarted', 'taskExited', 'taskCleanedUp', 'driverClose', 'driverClosed']);
    const of = (event: EventName) => mine.find((each) => each.name === event)?.event;
    expect(of('taskStart')).toMatchObject({ driver: name, namespace, taskId, role: 'task', image: 'busybox' });
    expect(of('taskStarted')).toMatchObject({ driver: name, taskId, adopted: false, durationMs: expect.any(Number) });
    expect(of('taskExited')).toMatchObject({ driver: name, taskId, exitCode: 3 });
    expect(of('taskCleanedUp')).toMatchObject({ driver: name, taskId, role: 'task', durationMs: expect.any(Number) });
    expect(of('driverClosed')).not.toHaveProperty('error');
    if (engine) {
      // Engine requests are timed, each with what was asked.
      const requests = mine.filter((each) => each.name === 'engineRequest').map(({ event }) => event);
      expect(requests.length).toBeGreaterThan(0);
      for (const request of requests) expect(request).toMatchObject({ operation: expect.any(String), durationMs: expect.any(Number) });
    }

    // The logger heard the same events, as (fields, message).
    const infos = logger.calls.filter((call) => call.level === 'info').map((call) => call.args);
    expect(infos).toContainEqual([expect.objectContaining({ taskId, exitCode: 3 }), expect.stringContaining(`task "${taskId}" ended with exit code 3`)]);

    // Nothing anyone saw holds the value: not a payload of any namespace, not a log line.
    expect(JSON.stringify(seen.map(({ event }) => event))).not.toContain(secret);
    expect(JSON.stringify(logger.calls)).not.toContain(secret);
  }, TIMEOUT);
});

describe('lifecycle events: docker image pulls', () => {
  it('a pull publishes its start and its end, with the error when it failed', async () => {
    const namespace = testNamespace('ev');
    const driver = createDockerDriver({ namespace });
    // The local registry (127.0.0.1) has no such image: the pull fails without leaving the machine.
    const image = `127.0.0.1:${process.env.DRIVETRAIN_REGISTRY_PORT ?? '5000'}/drivetrain-missing-${randomBytes(4).toString('hex')}:1`;
    try {
      await expect(driver.runContainer({ id: 'pull', image, command: ['true'] }, { signal: AbortSignal.timeout(60_000) })).rejects.toMatchObject({ name: 'ImagePullError' });
    } finally {
      await driver.close();
    }
    const pulls = seen.filter(({ name, event }) => event.namespace === namespace && name.startsWith('imagePull'));
    expect(pulls.map(({ name }) => name)).toEqual(['imagePullStart', 'imagePullEnd']);
    expect(pulls[0]?.event).toMatchObject({ driver: 'docker', image });
    expect(pulls[1]?.event).toMatchObject({ image, durationMs: expect.any(Number), error: { name: expect.any(String), message: expect.any(String) } });
  }, TIMEOUT);
});

describe('lifecycle events: nothing printed by default', () => {
  it('a run with no logger and no subscriber writes nothing to stdout or stderr', async () => {
    for (const each of stop) each();
    stop = [];
    const written: string[] = [];
    const originals = { out: process.stdout.write, err: process.stderr.write };
    const capture = (chunk: unknown): boolean => {
      written.push(String(chunk));
      return true;
    };
    process.stdout.write = capture as typeof process.stdout.write;
    process.stderr.write = capture as typeof process.stderr.write;
    try {
      const driver = createNativeDriver({ namespace: testNamespace('ev') });
      const container = await driver.runContainer({ id: 'quiet', image: 'busybox', command: ['sh', '-c', 'echo out; echo err >&2'] });
      await container.wait();
      await driver.close();
    } finally {
      process.stdout.write = originals.out;
      process.stderr.write = originals.err;
    }
    expect(written).toEqual([]);
  });
});
