import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildPod } from '../../drivers/k8s/pod-spec.js';
import { resolveOptions } from '../../drivers/k8s/options.js';
import { InvalidInputError } from '../../src/errors.js';
import { validateSandboxTask, validateTask, type ResolvedTask } from '../../src/validate.js';
import { resourceByPlural } from '../k8s-server/resources.js';
import { validateObject } from '../k8s-server/validation.js';
import { anyString, taskId, trickyString, volumeName } from './arbitraries.js';
import { checkProperty } from './budget.js';
import { secretIn, SECRET_MARK } from './secrets.js';

const noNul = (s: string): boolean => !s.includes('\0');

const image = fc.oneof(
  fc.constantFrom('busybox', 'alpine:3.20', 'registry.local:5000/team/app:v1.2', `ghcr.io/a/b@sha256:${'a'.repeat(64)}`),
  fc.stringMatching(/^[a-z0-9]{1,8}(\/[a-z0-9]{1,8}){0,2}(:[\w][\w.-]{0,10})?$/),
);
const command = fc.array(anyString(20).filter(noNul), { minLength: 1, maxLength: 4 }).filter((c) => (c[0] as string).trim() !== '');
const envKey = fc.oneof(fc.stringMatching(/^[A-Z_][A-Z0-9_]{0,10}$/), anyString(10)).filter((k) => k !== '' && !k.includes('=') && noNul(k));
const env = fc.dictionary(envKey, anyString(20).filter(noNul), { maxKeys: 4 });
const segment = fc.oneof(fc.constantFrom('.', '..', '', 'a', 'b c', 'x'), trickyString(6));
const path = fc.tuple(fc.boolean(), fc.array(segment, { maxLength: 4 })).map(([absolute, parts]) => `${absolute ? '/' : ''}${parts.join('/')}`);
const labelKey = fc.oneof(fc.stringMatching(/^([a-z0-9]{1,6}(\.[a-z0-9]{1,6}){0,2}\/)?[A-Za-z0-9]([A-Za-z0-9_.-]{0,8}[A-Za-z0-9])?$/), trickyString(10));
const labelValue = fc.oneof(fc.stringMatching(/^([A-Za-z0-9]([A-Za-z0-9_.-]{0,8}[A-Za-z0-9])?)?$/), trickyString(10), fc.constant('x'.repeat(64)));

/** Tasks that are mostly well-formed, with any field sometimes anything at all. */
const taskLike = fc.record(
  {
    id: fc.oneof(taskId(), fc.anything()),
    image: fc.oneof(image, fc.anything()),
    command: fc.oneof(command, fc.anything()),
    env: fc.oneof(env, fc.anything()),
    workDir: fc.oneof(path, fc.anything()),
    user: fc.oneof(fc.constantFrom('1000', '1000:1000', 'nobody', 'root:0', 'bad user'), fc.anything()),
    privileged: fc.oneof(fc.boolean(), fc.anything()),
    mounts: fc.oneof(fc.array(fc.record({ volume: fc.oneof(volumeName(), fc.anything()), path: fc.oneof(path, fc.anything()), readOnly: fc.oneof(fc.boolean(), fc.anything()) }, { requiredKeys: ['volume', 'path'] }), { maxLength: 3 }), fc.anything()),
    limits: fc.oneof(fc.record({ cpuShares: fc.oneof(fc.integer({ min: 0, max: 300_000 }), fc.double()), memoryBytes: fc.oneof(fc.integer({ min: 0, max: 2 ** 41 }), fc.double()) }, { requiredKeys: [] }), fc.anything()),
    labels: fc.oneof(fc.dictionary(labelKey, labelValue, { maxKeys: 3 }), fc.anything()),
    timeoutMs: fc.oneof(fc.integer({ min: -5, max: 2 ** 32 }), fc.anything()),
  },
  { requiredKeys: [] },
);
/** Mostly valid tasks: each optional field either valid or absent. */
const validish = fc.record(
  { id: taskId(), image, command, env, workDir: path, labels: fc.dictionary(labelKey, labelValue, { maxKeys: 3 }), mounts: fc.array(fc.record({ volume: volumeName(), path }), { maxLength: 3 }), privileged: fc.boolean() },
  { requiredKeys: ['id', 'image', 'command'] },
);

/** Runs `validate`; the error when it throws. */
function outcome<T>(validate: () => T): { value: T } | { error: unknown } {
  try {
    return { value: validate() };
  } catch (error) {
    return { error };
  }
}

describe('task validation', () => {
  it('either accepts a value or rejects it with InvalidInputError naming a task field: never anything else', async () => {
    await checkProperty('validateTask: total, typed errors', 'pure', fc.property(fc.oneof(taskLike, fc.anything()), (candidate) => {
      for (const validate of [validateTask, validateSandboxTask]) {
        const result = outcome(() => validate(candidate));
        if ('error' in result && !(result.error instanceof InvalidInputError && /^task(\.|\b)/.test(result.error.field))) return false;
      }
      return true;
    }));
  });

  it('an accepted task has an absolute normalised workDir, distinct absolute mount paths and privileged off unless asked', async () => {
    await checkProperty('validateTask: accepted tasks are resolved', 'pure', fc.property(fc.oneof(validish, taskLike), (candidate) => {
      const result = outcome(() => validateTask(candidate));
      if ('error' in result) return true;
      const task: ResolvedTask = result.value;
      const clean = (p: string): boolean => p.startsWith('/') && !p.split('/').includes('..') && !p.split('/').includes('.') && !p.includes('//') && (p === '/' || !p.endsWith('/'));
      const paths = task.mounts.map((m) => m.path);
      return (
        clean(task.workDir) &&
        paths.every((p) => clean(p) && p !== '/') &&
        new Set(paths).size === paths.length &&
        task.privileged === ((candidate as { privileged?: unknown }).privileged === true)
      );
    }));
  });

  it('an accepted task makes a pod the Kubernetes API server accepts (names, labels, mounts)', async () => {
    const pods = resourceByPlural('pods')!;
    const options = resolveOptions({ namespace: 'fz' }, 'default');
    await checkProperty('validateTask: accepted tasks make valid pods', 'pure', fc.property(validish, (candidate) => {
      const result = outcome(() => validateTask(candidate));
      if ('error' in result) return true;
      const pod = buildPod(result.value, { role: 'task', command: result.value.command, stdin: false }, options);
      validateObject(pods, pod as never);
      return true;
    }));
  });

  it('never shows an env value in an error, whatever else is wrong', async () => {
    const secretEnv = fc.oneof(
      fc.tuple(envKey, fc.string({ maxLength: 8 })).map(([key, tail]) => ({ [key]: `${SECRET_MARK}${tail}` })),
      fc.tuple(envKey, fc.string({ maxLength: 8 })).map(([key, tail]) => ({ [key]: `${SECRET_MARK}${tail}\0` })),
      fc.string({ maxLength: 8 }).map((tail) => `API_TOKEN=${SECRET_MARK}${tail}`),
      fc.string({ maxLength: 8 }).map((tail) => [`API_TOKEN=${SECRET_MARK}${tail}`]),
      fc.string({ maxLength: 8 }).map((tail) => new Map([['API_TOKEN', `${SECRET_MARK}${tail}`]])),
    );
    await checkProperty('validateTask: env values never in errors', 'pure', fc.property(taskLike, secretEnv, (candidate, secret) => {
      const result = outcome(() => validateTask({ ...(candidate as object), env: secret }));
      return !('error' in result) || !secretIn(result.error);
    }));
  });

  it('regression: env given as a string is refused without echoing it', () => {
    const error = outcome(() => validateTask({ id: 'a', image: 'busybox', command: ['true'], env: `API_TOKEN=${SECRET_MARK}` }));
    expect('error' in error && error.error).toBeInstanceOf(InvalidInputError);
    expect('error' in error && secretIn(error.error)).toBe(false);
  });
});
