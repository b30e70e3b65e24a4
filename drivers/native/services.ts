import { execFile } from 'node:child_process';
import { mkdir, readFile, readdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { InvalidInputError } from '../../src/errors.js';
import { listeningOn } from '../../src/kit/listening.js';
import { findService, type ResolvedReadiness, type ResolvedService } from '../../src/services.js';
import { waitUntilServiceReady } from '../../src/kit/service-ready.js';
import { defaultWorkDir } from '../../src/names.js';
import type { LogOptions, LogResult } from '../../src/types.js';
import type { ResolvedTask } from '../../src/validate.js';
import { mapPath } from './filesystem.js';
import { groupsWorkingUnder, stopGroup } from './process.js';
import { readRecord } from './record.js';
import { copyLogs } from './logs.js';
import type { StartContext } from './start.js';

/**
 * Service containers on the native driver: host processes. Each service is started as a task
 * of its own in `<task dir>/services/<name>` (its record, output files and scratch directory
 * there), so everything that follows a task's process follows a service's: its status, its
 * logs, and the sweeps by working directory that stop what runs under the task's directory
 * (cleanup, close). There is no network isolation: `localhost` is the host's, so a port a
 * service listens on is the host's port, and it clashes with anything else using it.
 */

/** The directory of a task's (or sandbox's) services. */
export function servicesDir(ownerDir: string): string {
  return join(ownerDir, 'services');
}

/** Services on a host need a command: the native driver runs no images. */
export function assertServiceCommands(services: readonly ResolvedService[]): void {
  services.forEach((service, i) => {
    if (service.command === undefined) throw new InvalidInputError(`task.services[${i}].command`, 'a command: the native driver runs host processes and ignores images, so an image\'s own command cannot be run');
  });
}

/** Starts a task's process (injected: the task start, to which services are tasks too). */
export type StartProcess = (dir: string, task: ResolvedTask, signal: AbortSignal) => Promise<unknown>;

/**
 * Starts every service of `owner` and resolves once each passed its readiness check; on any
 * failure or abort, stops them before rethrowing.
 */
export async function startServices(ownerDir: string, ownerId: string, services: readonly ResolvedService[], context: StartContext, start: StartProcess, signal: AbortSignal): Promise<void> {
  const parent = servicesDir(ownerDir);
  await mkdir(parent, { recursive: true });
  try {
    await Promise.all(
      services.map(async (service) => {
        const task = serviceTask(ownerId, service);
        const dir = join(parent, service.name);
        await start(dir, task, signal);
        const cwd = mapPath(join(dir, 'fs'), task.workDir);
        await waitUntilServiceReady(
          service,
          {
            ended: async () => {
              const record = await readRecord(dir);
              return record?.status.done === true ? `exit code ${record.status.exitCode}` : undefined;
            },
            check: (ready, bounded) => check(ready, cwd, service.env, context, bounded).catch((error: unknown) => `the check failed: ${(error as Error).message}`),
          },
          signal,
        );
      }),
    );
  } catch (error) {
    await stopServices(ownerDir, 0);
    throw error;
  }
}

function serviceTask(ownerId: string, service: ResolvedService): ResolvedTask {
  const id = `${ownerId}/${service.name}`;
  return {
    id,
    image: service.image,
    command: service.command ?? [],
    env: service.env,
    workDir: defaultWorkDir(id),
    defaultWorkDir: true,
    mounts: [],
    labels: {},
    limits: {},
    privileged: false,
    services: [],
  };
}

async function check(ready: ResolvedReadiness, cwd: string, env: Readonly<Record<string, string>>, context: StartContext, signal: AbortSignal): Promise<true | string> {
  if ('command' in ready) {
    const [file, ...args] = ready.command as [string, ...string[]];
    const exitCode = await new Promise<number | null>((resolve) => {
      execFile(file, args, { cwd, env: 'PATH' in env ? { ...env } : { ...env, PATH: context.defaultPath }, signal }, (error) => resolve(error === null ? 0 : typeof error.code === 'number' ? error.code : null));
    });
    return exitCode === 0 ? true : `the check command exited with ${exitCode}`;
  }
  return (await listening(ready.tcpPort, signal)) ? true : `nothing listens on port ${ready.tcpPort}`;
}

/** Whether something listens on the host's `port`: Linux's socket tables, else a connect to 127.0.0.1 that is closed at once. */
async function listening(port: number, signal: AbortSignal): Promise<boolean> {
  const tables = await Promise.all(['/proc/net/tcp', '/proc/net/tcp6'].map((file) => readFile(file, 'utf8').catch(() => undefined)));
  if (tables.some((table) => table !== undefined)) return listeningOn(tables.join('\n'), port);
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, signal });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Stops every service process of the owner (their output files stay readable). */
export async function stopServices(ownerDir: string, graceMs: number): Promise<void> {
  // Most tasks have none: no scan of the process table for them.
  if (!existsSync(servicesDir(ownerDir))) return;
  await Promise.allSettled(groupsWorkingUnder(servicesDir(ownerDir)).map((group) => stopGroup(group, undefined, graceMs)));
}

/** The directory of the owner's service `name`; `NotFoundError` naming the services it has. */
export async function serviceDir(ownerDir: string, ownerId: string, name: unknown): Promise<string> {
  const names = await readdir(servicesDir(ownerDir)).catch(() => [] as string[]);
  return join(servicesDir(ownerDir), findService(names.map((n) => ({ name: n })), name, ownerId).name);
}

/** Writes the output of the owner's service `name`, as a task's logs are written (a follow ends when the service does). */
export async function serviceLogs(ownerDir: string, ownerId: string, options: LogOptions, pollMs: number): Promise<LogResult> {
  const dir = await serviceDir(ownerDir, ownerId, options.service);
  const ended = async (): Promise<boolean> => (await readRecord(dir).catch(() => undefined))?.status.done !== false;
  await copyLogs(dir, { stdout: options.stdout, stderr: options.stderr }, options.follow === true ? { ended, pollMs } : undefined, options.signal);
  return { streams: 'separate' };
}
