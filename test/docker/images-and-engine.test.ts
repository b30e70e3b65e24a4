import Dockerode from 'dockerode';
import { describe, expect, it } from 'vitest';
import { EngineUnavailableError, ImagePullError, InvalidInputError } from '../../src/errors.js';
import { createDockerDriver } from '../../drivers/docker/index.js';
import { containersOf, finish, openDriver } from './helpers.js';
import { testNamespace } from '../setup/test-run.js';

// A well-formed reference that no engine here has and no registry can serve.
const MISSING_IMAGE = 'registry.invalid/drivetrain/missing:1';

describe('docker driver: images and the engine connection', () => {
  it('pullPolicy Never with a missing image: ImagePullError ErrImageNeverPull, nothing left behind', async () => {
    const driver = openDriver({ pullPolicy: 'Never' });
    const error = await driver.runContainer({ id: 'never', image: MISSING_IMAGE, command: ['true'] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ImagePullError);
    expect((error as ImagePullError).reason).toBe('ErrImageNeverPull');
    expect((error as ImagePullError).image).toBe(MISSING_IMAGE);
    expect(await containersOf(driver.namespace)).toEqual([]);
  });

  it('pullPolicy Never with a present image runs it', async () => {
    const driver = openDriver({ pullPolicy: 'Never' });
    const { status, stdout } = await finish(await driver.runContainer({ id: 'present', image: 'busybox', command: ['echo', 'here'] }));
    expect(status.exitCode).toBe(0);
    expect(stdout).toBe('here\n');
  });

  it('IfNotPresent with a missing image tries a pull, which fails promptly with ErrImagePull and leaves nothing', async () => {
    const driver = openDriver();
    const started = Date.now();
    const error = await driver.runContainer({ id: 'pull', image: MISSING_IMAGE, command: ['true'] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ImagePullError);
    expect((error as ImagePullError).reason).toBe('ErrImagePull');
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(await containersOf(driver.namespace)).toEqual([]);
  });

  it('Always pulls even a present image, so without a registry the run fails with ErrImagePull', async () => {
    const driver = openDriver({ pullPolicy: 'Always' });
    const error = await driver.runContainer({ id: 'always', image: 'busybox', command: ['true'] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ImagePullError);
    expect((error as ImagePullError).reason).toBe('ErrImagePull');
  });

  it('bad options are refused up front, naming the option', () => {
    expect(() => createDockerDriver({ namespace: testNamespace('dk'), pullPolicy: 'Sometimes' as never })).toThrow(InvalidInputError);
    expect(() => createDockerDriver({ namespace: testNamespace('dk'), startTimeoutMs: -1 })).toThrow(/options\.startTimeoutMs/);
    expect(() => createDockerDriver({ namespace: 'Not A Namespace' })).toThrow(/options\.namespace/);
  });

  it('an injected Dockerode client is used', async () => {
    const driver = openDriver({ docker: new Dockerode({ socketPath: '/var/run/docker.sock' }) });
    const { stdout } = await finish(await driver.runContainer({ id: 'injected', image: 'busybox', command: ['echo', 'ok'] }));
    expect(stdout).toBe('ok\n');
  });

  describe('DOCKER_HOST', () => {
    const withDockerHost = async <T>(value: string, body: () => Promise<T>): Promise<T> => {
      const saved = process.env.DOCKER_HOST;
      process.env.DOCKER_HOST = value;
      try {
        return await body();
      } finally {
        if (saved === undefined) delete process.env.DOCKER_HOST;
        else process.env.DOCKER_HOST = saved;
      }
    };

    it('unix:///var/run/docker.sock is honoured', async () => {
      await withDockerHost('unix:///var/run/docker.sock', async () => {
        const driver = openDriver();
        const { stdout } = await finish(await driver.runContainer({ id: 'env-host', image: 'busybox', command: ['echo', 'via env'] }));
        expect(stdout).toBe('via env\n');
      });
    });

    it.each(['unix:///nonexistent/docker.sock', 'tcp://127.0.0.1:1'])('a bogus %s fails with EngineUnavailableError within seconds', async (host) => {
      await withDockerHost(host, async () => {
        // The client is created on first use, so the variable set now is the one read.
        const driver = createDockerDriver({ namespace: testNamespace('dk') });
        const started = Date.now();
        const error = await driver.runContainer({ id: 'nowhere', image: 'busybox', command: ['true'] }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(EngineUnavailableError);
        expect(Date.now() - started).toBeLessThan(8_000);
        await expect(driver.close()).rejects.toBeInstanceOf(EngineUnavailableError);
      });
    });
  });
});

describe('docker driver: concurrent runs that cannot start', () => {
  it('five concurrent runs of one ID with a missing image all get the same ImagePullError and leave nothing', async () => {
    const driver = openDriver({ pullPolicy: 'Never' });
    const task = { id: 'shared-failure', image: MISSING_IMAGE, command: ['true'] };
    const outcomes = await Promise.allSettled(Array.from({ length: 5 }, () => driver.runContainer(task)));
    for (const outcome of outcomes) {
      expect(outcome.status).toBe('rejected');
      expect((outcome as PromiseRejectedResult).reason).toBeInstanceOf(ImagePullError);
    }
    expect(await containersOf(driver.namespace)).toEqual([]);
  });
});
