import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../src/errors.js';
import { validateNamespace, validateTask, validateVolumeName } from '../../src/validate.js';

const base = { id: 'task-1', image: 'busybox', command: ['echo', 'hello'] };

function fieldOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).code).toBe('ERR_INVALID_INPUT');
    return (error as InvalidInputError).field;
  }
  throw new Error('expected an InvalidInputError');
}

describe('validateTask rejects bad input, naming the field', () => {
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ['empty image', { image: '' }, 'task.image'],
    ['whitespace image', { image: '   ' }, 'task.image'],
    ['upper-case image', { image: 'BusyBox' }, 'task.image'],
    ['image with spaces', { image: 'busy box' }, 'task.image'],
    ['image with a bad tag', { image: 'busybox:' }, 'task.image'],
    ['empty command', { command: [] }, 'task.command'],
    ['command not an array', { command: 'echo hi' }, 'task.command'],
    ['empty program name', { command: [''] }, 'task.command[0]'],
    ['NUL in an argument', { command: ['echo', 'a\0b'] }, 'task.command[1]'],
    ['empty ID', { id: '' }, 'task.id'],
    ['whitespace ID', { id: ' \t' }, 'task.id'],
    ['NUL in the ID', { id: 'a\0b' }, 'task.id'],
    ['ID over 1024 characters', { id: 'x'.repeat(1025) }, 'task.id'],
    ['env key with =', { env: { 'A=B': 'x' } }, 'task.env key "A=B"'],
    ['empty env key', { env: { '': 'x' } }, 'task.env key ""'],
    ['non-string env value', { env: { A: 1 } }, 'task.env.A'],
    ['negative cpu shares', { limits: { cpuShares: -1 } }, 'task.limits.cpuShares'],
    ['fractional cpu shares', { limits: { cpuShares: 1.5 } }, 'task.limits.cpuShares'],
    ['negative memory', { limits: { memoryBytes: -1 } }, 'task.limits.memoryBytes'],
    ['absurd memory', { limits: { memoryBytes: 1e30 } }, 'task.limits.memoryBytes'],
    ['NaN memory', { limits: { memoryBytes: Number.NaN } }, 'task.limits.memoryBytes'],
    ['duplicate mount paths', { mounts: [{ volume: 'a', path: 'data' }, { volume: 'b', path: './data/' }] }, 'task.mounts[1].path'],
    ['mount path with ..', { mounts: [{ volume: 'a', path: '../etc' }] }, 'task.mounts[0].path'],
    ['mount at /', { mounts: [{ volume: 'a', path: '/' }] }, 'task.mounts[0].path'],
    ['invalid volume name', { mounts: [{ volume: 'Bad Name', path: 'x' }] }, 'task.mounts[0].volume'],
    ['relative workDir', { workDir: 'work' }, 'task.workDir'],
    ['workDir with ..', { workDir: '/a/../b' }, 'task.workDir'],
    ['bad user', { user: 'root; rm -rf /' }, 'task.user'],
    ['non-boolean privileged', { privileged: 'yes' }, 'task.privileged'],
    ['reserved label', { labels: { 'drivetrain.dev/x': 'y' } }, 'task.labels["drivetrain.dev/x"]'],
    ['label value too long', { labels: { a: 'x'.repeat(64) } }, 'task.labels["a"]'],
    ['stdin of a wrong type', { stdin: 42 }, 'task.stdin'],
    ['zero timeout', { timeoutMs: 0 }, 'task.timeoutMs'],
  ];
  it.each(cases)('%s', (_title, patch, field) => {
    expect(fieldOf(() => validateTask({ ...base, ...patch }))).toBe(field);
  });

  it('rejects a task that is not an object', () => {
    expect(fieldOf(() => validateTask(null))).toBe('task');
  });

  it('never echoes environment values in its errors', () => {
    try {
      validateTask({ ...base, env: { SECRET: 'hunter2\0' } });
      throw new Error('expected an error');
    } catch (error) {
      expect(String((error as Error).message)).not.toContain('hunter2');
    }
  });
});

describe('validateTask accepts and resolves good input', () => {
  it('applies the defaults', () => {
    const task = validateTask(base);
    expect(task.workDir).toBe('/tmp/drivetrain/task-1');
    expect(task.defaultWorkDir).toBe(true);
    expect(task.env).toEqual({});
    expect(task.mounts).toEqual([]);
    expect(task.privileged).toBe(false);
  });

  it('resolves relative mount paths against workDir', () => {
    const task = validateTask({ ...base, workDir: '/work/', mounts: [{ volume: 'test', path: 'test' }, { volume: 'b', path: '/abs/dir/' }] });
    expect(task.workDir).toBe('/work');
    expect(task.mounts).toEqual([
      { volume: 'test', path: '/work/test', readOnly: false },
      { volume: 'b', path: '/abs/dir', readOnly: false },
    ]);
  });

  it.each([
    ['unicode ID', 'tâche-日本'],
    ['300-character ID', 'x'.repeat(300)],
    ['ID with slashes', 'pipeline/job/42'],
  ])('accepts a %s', (_title, id) => {
    expect(validateTask({ ...base, id }).id).toBe(id);
  });

  it.each(['busybox', 'busybox:1.36', 'library/busybox:latest', 'ghcr.io/org/app:v1.2', 'localhost:5000/a/b', `alpine@sha256:${'a'.repeat(64)}`])(
    'accepts the image reference %s',
    (image) => {
      expect(validateTask({ ...base, image }).image).toBe(image);
    },
  );

  it('keeps env values with newlines and unicode intact', () => {
    const env = { MULTI: 'a\nb\n', UNI: 'héllo 世界 🚀', EMPTY: '' };
    expect(validateTask({ ...base, env }).env).toEqual(env);
  });

  it('accepts every stdin form', () => {
    for (const stdin of ['text', new Uint8Array([1, 2]), Readable.from(['a']), (async function* () { yield new Uint8Array([1]); })()]) {
      expect(validateTask({ ...base, stdin }).stdin).toBe(stdin);
    }
  });
});

describe('names of volumes and namespaces', () => {
  it.each(['test', 'a.b_c-1', 'x'.repeat(63)])('accepts the volume name %s', (name) => {
    expect(() => validateVolumeName(name)).not.toThrow();
  });
  it.each(['', 'Test', '-a', 'a-', 'a/b', 'x'.repeat(64)])('rejects the volume name %j', (name) => {
    expect(() => validateVolumeName(name)).toThrow(InvalidInputError);
  });
  it.each(['', 'A', 'a_b', '-a', 'x'.repeat(41)])('rejects the namespace %j', (ns) => {
    expect(() => validateNamespace(ns)).toThrow(InvalidInputError);
  });
  it.each(['dt-1234abcd', 'ci', 'x'.repeat(40)])('accepts the namespace %s', (ns) => {
    expect(() => validateNamespace(ns)).not.toThrow();
  });
});
