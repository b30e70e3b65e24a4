import { describe, expect, it } from 'vitest';
import { InvalidInputError, NotFoundError } from '../../src/errors.js';
import { listeningOn } from '../../src/kit/listening.js';
import { findService, validateServices } from '../../src/services.js';
import { validateTask } from '../../src/validate.js';

describe('task.services validation', () => {
  const task = (services: unknown) => validateTask({ id: 't', image: 'busybox', command: ['true'], services });

  it('applies defaults: no command keeps the image\'s, a readiness check gets the 60 s timeout', () => {
    expect(task([{ name: 'db', image: 'postgres:16', ready: { tcpPort: 5432 } }]).services).toEqual([{ name: 'db', image: 'postgres:16', command: undefined, env: {}, ready: { tcpPort: 5432, timeoutMs: 60_000 } }]);
    expect(task(undefined).services).toEqual([]);
  });

  it.each([
    ['not an array', { name: 'db' }, 'task.services'],
    ['a bad name', [{ name: 'Db', image: 'busybox' }], 'task.services[0].name'],
    ['the reserved name task', [{ name: 'task', image: 'busybox' }], 'task.services[0].name'],
    ['a duplicate name', [{ name: 'a', image: 'busybox' }, { name: 'a', image: 'busybox' }], 'task.services[1].name'],
    ['a bad image', [{ name: 'a', image: 'Not An Image' }], 'task.services[0].image'],
    ['an empty command', [{ name: 'a', image: 'busybox', command: [] }], 'task.services[0].command'],
    ['both checks', [{ name: 'a', image: 'busybox', ready: { tcpPort: 1, command: ['true'] } }], 'task.services[0].ready'],
    ['neither check', [{ name: 'a', image: 'busybox', ready: {} }], 'task.services[0].ready'],
    ['port 0', [{ name: 'a', image: 'busybox', ready: { tcpPort: 0 } }], 'task.services[0].ready.tcpPort'],
    ['a zero timeout', [{ name: 'a', image: 'busybox', ready: { tcpPort: 80, timeoutMs: 0 } }], 'task.services[0].ready.timeoutMs'],
  ])('rejects %s, naming the field', (_, services, field) => {
    expect(() => task(services)).toThrow(InvalidInputError);
    try {
      task(services);
    } catch (error) {
      expect((error as InvalidInputError).field).toBe(field);
    }
  });

  it('findService names the services a task has when the name is unknown', () => {
    const services = validateServices([{ name: 'db', image: 'busybox' }, { name: 'cache', image: 'busybox' }]);
    expect(findService(services, 'cache', 't').name).toBe('cache');
    expect(() => findService(services, 'web', 't')).toThrow(NotFoundError);
    expect(() => findService(services, 'web', 't')).toThrow('its services: db, cache');
  });
});

describe('listeningOn (/proc/net/tcp)', () => {
  const table = [
    '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
    '   0: 00000000:1B58 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0',
    '   1: 0100007F:A488 0100007F:1B59 01 00000000:00000000 00:00000000 00000000     0        0 0 1 0',
    '  sl  local_address                         remote_address                        st',
    '   0: 00000000000000000000000000000000:0050 00000000000000000000000000000000:0000 0A 00000000:00000000',
  ].join('\n');

  it('finds a LISTEN socket of IPv4 and IPv6 by port, and not a connected one', () => {
    expect(listeningOn(table, 7000)).toBe(true);
    expect(listeningOn(table, 80)).toBe(true);
    expect(listeningOn(table, 7001)).toBe(false);
    expect(listeningOn(table, 42120)).toBe(false);
    expect(listeningOn('', 7000)).toBe(false);
  });
});
