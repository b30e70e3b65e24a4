import { describe, expect, it } from 'vitest';
import { ContainerNotFoundError, InvalidInputError } from '../../src/errors.js';
import type { Task } from '../../src/types.js';
import type { Harness } from './harness.js';
import { expectRejection } from './helpers.js';

/** Bad input is refused up front with an error naming the field, and nothing is created. */
export function invalidInputCases(h: Harness): void {
  describe('invalid input', () => {
    const cases: ReadonlyArray<{ title: string; field: RegExp; change: (task: Task) => Task }> = [
      { title: 'an empty image', field: /^task\.image$/, change: (t) => ({ ...t, image: '' }) },
      { title: 'a whitespace image', field: /^task\.image$/, change: (t) => ({ ...t, image: '   ' }) },
      { title: 'an empty command', field: /^task\.command/, change: (t) => ({ ...t, command: [] }) },
      { title: 'a negative memory limit', field: /^task\.limits\.memoryBytes$/, change: (t) => ({ ...t, limits: { memoryBytes: -1 } }) },
      { title: 'a negative cpu share', field: /^task\.limits\.cpuShares$/, change: (t) => ({ ...t, limits: { cpuShares: -5 } }) },
      { title: 'a negative timeout', field: /^task\.timeoutMs$/, change: (t) => ({ ...t, timeoutMs: -1 }) },
      {
        title: 'two mounts on one path',
        field: /^task\.mounts\[1\]\.path$/,
        change: (t) => ({ ...t, workDir: '/w', mounts: [{ volume: 'one', path: 'data' }, { volume: 'two', path: '/w/data' }] }),
      },
      { title: 'an invalid volume name in a mount', field: /^task\.mounts\[0\]\.volume$/, change: (t) => ({ ...t, mounts: [{ volume: 'Not_Valid!', path: 'data' }] }) },
      { title: 'a reserved label', field: /^task\.labels/, change: (t) => ({ ...t, labels: { 'drivetrain.dev/namespace': 'x' } }) },
      { title: 'a terminal of zero columns', field: /^task\.tty\.columns$/, change: (t) => ({ ...t, tty: { columns: 0, rows: 24 } }) },
      { title: 'a terminal of fractional rows', field: /^task\.tty\.rows$/, change: (t) => ({ ...t, tty: { columns: 80, rows: 2.5 } }) },
      {
        title: 'terminal sizes without a terminal',
        field: /^task\.terminalSizes$/,
        change: (t) => ({ ...t, terminalSizes: (async function* () {})() }),
      },
    ];

    for (const { title, field, change } of cases) {
      it(`${title} is refused with InvalidInputError naming ${field.source.replace(/\\/g, '').replace(/^\^|\$$/g, '')}, and nothing is created`, async () => {
        const driver = h.driver();
        const id = h.taskId('invalid');
        const error = await expectRejection(driver.runContainer(change(h.task(id, ['true'])), { signal: h.signal() }), InvalidInputError);
        expect(error.field).toMatch(field);
        await expect(driver.getContainer(id, { signal: h.signal() })).rejects.toBeInstanceOf(ContainerNotFoundError);
      }, h.caseTimeoutMs);
    }

    for (const [title, id] of [['an empty ID', ''], ['an ID with NUL', 'bad\0id'], ['a whitespace ID', '  ']] as const) {
      it(`${title} is refused with InvalidInputError naming task.id`, async () => {
        const error = await expectRejection(h.driver().runContainer(h.task(id, ['true']), { signal: h.signal() }), InvalidInputError);
        expect(error.field).toBe('task.id');
      }, h.caseTimeoutMs);
    }

    it('getContainer with an empty ID is refused with InvalidInputError', async () => {
      await expectRejection(h.driver().getContainer('', { signal: h.signal() }), InvalidInputError);
    }, h.caseTimeoutMs);

    it('an invalid volume name is refused by createVolume with InvalidInputError naming it', async () => {
      const error = await expectRejection(h.driver().createVolume('Bad_Name!', { signal: h.signal() }), InvalidInputError);
      expect(error.field).toMatch(/name|volume/);
      expect(error.message).toContain('Bad_Name!');
    }, h.caseTimeoutMs);

    it('a task that is not an object is refused with InvalidInputError', async () => {
      await expectRejection(h.driver().runContainer(null as unknown as Task, { signal: h.signal() }), InvalidInputError);
    }, h.caseTimeoutMs);
  });
}
