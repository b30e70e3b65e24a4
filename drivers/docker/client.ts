import type Dockerode from 'dockerode';
import { dockerodeClass } from './sdk.js';
import { since, type DriverEvents } from '../../src/kit/events.js';
import { retryReason, statusCodeOf } from './engine-errors.js';

type Callback = (error: unknown, data: unknown) => void;
type Dial = (options: { method?: string; path?: string }, callback: Callback) => unknown;

/**
 * The client a driver uses: `base` (the caller's, or one built from the environment) seen
 * through a modem of its own whose every request is timed on `drivetrain:engine:request`
 * (method and path, status on failure). The caller's client is not changed: the driver's modem
 * delegates to it. For a stream (logs, attach, events, pulls), the time is until the engine
 * answered and the stream began. Nothing is timed while nobody listens.
 */
export function instrumentedClient(base: Dockerode, events: DriverEvents): Dockerode {
  const modem = Object.create(base.modem as object) as { dial: Dial };
  const dial = (base.modem as unknown as { dial: Dial }).dial;
  modem.dial = function (this: unknown, options: { method?: string; path?: string }, callback: Callback) {
    if (!events.active('engineRequest')) return dial.call(this, options, callback);
    const started = performance.now();
    const operation = `${options.method ?? 'GET'} ${(options.path ?? '').replace(/\?.*$/, '')}`;
    return dial.call(this, options, (error, data) => {
      const status = error === null || error === undefined ? undefined : statusCodeOf(error);
      events.emit('engineRequest', {
        operation,
        durationMs: since(started),
        ...(status === undefined ? {} : { statusCode: status }),
        ...(error === null || error === undefined ? {} : { error: retryReason(error) }),
      });
      callback(error, data);
    });
  };
  return new (dockerodeClass())({ modem } as Dockerode.DockerOptions);
}
