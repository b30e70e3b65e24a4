import { pipeline } from 'node:stream/promises';
import type { Duplex } from 'node:stream';
import type Dockerode from 'dockerode';
import { LABELS } from '../../src/labels.js';
import { CollectingWritable } from '../../src/logs.js';
import { findService, type ResolvedReadiness, type ResolvedService } from '../../src/services.js';
import { waitUntilServiceReady } from '../../src/kit/service-ready.js';
import { engineCall, quickEngineCall, type DockerContext } from './context.js';
import { demuxTo } from './demux.js';
import { listeningOn } from '../../src/kit/listening.js';
import { DOCKER_LABELS, baseLabels, networkHolderName, serviceContainerName } from './naming.js';
import { removeContainer, removeContainerQuietly } from './removal.js';
import { LOG_CONFIG } from './spec.js';
import { createWithImage } from './start.js';

/**
 * Service containers of a task or sandbox on Docker.
 *
 * A small holder container (the helper image running `sleep`) owns the network namespace
 * that the services and the task share, as a pod's sandbox does in Kubernetes: it is the one
 * container started with the driver's `networkMode`, and every service and the task join it
 * (`NetworkMode: container:<holder>`), which needs no bridge (the engine may run with
 * `--bridge=none`). A service that exits or restarts never takes the namespace with it, and
 * the task's container can be created (its name reserved, for idempotency) before anything
 * runs, because the engine resolves `container:<name>` only at start.
 */

/** Who services belong to. */
export interface ServiceOwner {
  kind: 'task' | 'sandbox';
  taskId: string;
}

/** What the holder runs: it only has to stay alive. */
const HOLDER_COMMAND = ['sleep', '2147483647'];

/** The network mode of a task or sandbox container whose owner has services. */
export function sharedNetworkMode(ctx: DockerContext, owner: ServiceOwner): string {
  return `container:${networkHolderName(ctx.namespace, owner.kind, owner.taskId)}`;
}

function ownerLabels(ctx: DockerContext, owner: ServiceOwner, role: 'helper' | 'service'): Record<string, string> {
  return { ...baseLabels(ctx.namespace, role), [LABELS.taskId]: owner.taskId, [DOCKER_LABELS.serviceOf]: owner.kind };
}

/**
 * Starts the holder and every service, and resolves once each passed its readiness check.
 * Anything that fails (a service that ends or stays unready, an abort) removes all of them
 * before the error is rethrown. Leftovers of an earlier start of the same owner are removed first.
 */
export async function startServices(ctx: DockerContext, owner: ServiceOwner, services: readonly ResolvedService[], signal: AbortSignal): Promise<void> {
  await removeServices(ctx, owner, signal);
  try {
    const holder = await createAndStart(ctx, holderSpec(ctx, owner), ctx.options.helperImage, signal);
    const started = await Promise.all(services.map(async (service) => ({ service, engineId: await createAndStart(ctx, serviceSpec(ctx, owner, service, holder), service.image, signal) })));
    await Promise.all(started.map(({ service, engineId }) => waitUntilServiceReady(
        service,
        {
          ended: async (bounded) => {
            const info = await quickEngineCall(ctx, { kind: 'other', what: `service "${service.name}"` }, (call) => ctx.docker().getContainer(engineId).inspect({ abortSignal: call }), { signal: bounded });
            return info.State.Running ? undefined : `exit code ${info.State.ExitCode}`;
          },
          check: (ready, bounded) => check(ctx, ready, engineId, holder, bounded),
        },
        signal,
      )));
  } catch (error) {
    await removeServices(ctx, owner).catch(() => {});
    throw error;
  }
}

function holderSpec(ctx: DockerContext, owner: ServiceOwner): Dockerode.ContainerCreateOptions {
  const hostConfig: Dockerode.HostConfig = { LogConfig: LOG_CONFIG };
  if (ctx.options.networkMode !== undefined) hostConfig.NetworkMode = ctx.options.networkMode;
  return {
    name: networkHolderName(ctx.namespace, owner.kind, owner.taskId),
    Image: ctx.options.helperImage,
    Entrypoint: HOLDER_COMMAND.slice(0, 1),
    Cmd: HOLDER_COMMAND.slice(1),
    Labels: ownerLabels(ctx, owner, 'helper'),
    HostConfig: hostConfig,
  };
}

function serviceSpec(ctx: DockerContext, owner: ServiceOwner, service: ResolvedService, holderId: string): Dockerode.ContainerCreateOptions {
  const spec: Dockerode.ContainerCreateOptions = {
    name: serviceContainerName(ctx.namespace, owner.kind, owner.taskId, service.name),
    Image: service.image,
    Env: Object.entries(service.env).map(([key, value]) => `${key}=${value}`),
    Labels: { ...ownerLabels(ctx, owner, 'service'), [DOCKER_LABELS.service]: service.name },
    HostConfig: { LogConfig: LOG_CONFIG, NetworkMode: `container:${holderId}` },
  };
  if (service.command !== undefined) {
    // As for a task: the command replaces the image's entrypoint too.
    spec.Entrypoint = service.command.slice(0, 1);
    spec.Cmd = service.command.slice(1);
  }
  return spec;
}

async function createAndStart(ctx: DockerContext, spec: Dockerode.ContainerCreateOptions, image: string, signal: AbortSignal): Promise<string> {
  if (ctx.images.policy === 'Always') await ctx.images.pull(image, signal);
  const engineId = await createWithImage(ctx, spec, image, signal);
  try {
    await engineCall(ctx, { kind: 'start' }, () => ctx.docker().getContainer(engineId).start());
    signal.throwIfAborted();
  } catch (error) {
    await removeContainerQuietly(ctx, engineId);
    throw error;
  }
  return engineId;
}

/** One readiness check: `true`, or why it failed. */
async function check(ctx: DockerContext, ready: ResolvedReadiness, engineId: string, holderId: string, signal: AbortSignal): Promise<true | string> {
  if ('command' in ready) {
    const { exitCode } = await execCollect(ctx, engineId, ready.command, signal);
    return exitCode === 0 ? true : `the check command exited with ${exitCode}`;
  }
  // Listening sockets of the shared network namespace, read from inside it (the engine may be remote).
  const { stdout } = await execCollect(ctx, holderId, ['cat', '/proc/net/tcp', '/proc/net/tcp6'], signal);
  return listeningOn(stdout, ready.tcpPort) ? true : `nothing listens on port ${ready.tcpPort}`;
}

async function execCollect(ctx: DockerContext, engineId: string, command: readonly string[], signal: AbortSignal): Promise<{ exitCode: number | null; stdout: string }> {
  const subject = { kind: 'other', what: 'service readiness check' } as const;
  const exec = await engineCall(ctx, subject, () => ctx.docker().getContainer(engineId).exec({ Cmd: [...command], AttachStdout: true, AttachStderr: true, abortSignal: signal } as never), { signal });
  const stream = (await engineCall(ctx, subject, () => exec.start({ hijack: true, stdin: false, Detach: false, Tty: false, abortSignal: signal } as never), { signal })) as unknown as Duplex;
  const stdout = new CollectingWritable();
  try {
    await pipeline(stream, demuxTo(stdout, undefined), { signal });
  } finally {
    stream.destroy();
  }
  const info = await quickEngineCall(ctx, subject, (bounded) => exec.inspect({ abortSignal: bounded }), { signal });
  return { exitCode: info.ExitCode ?? null, stdout: stdout.text() };
}

async function listServiceContainers(ctx: DockerContext, owner: ServiceOwner, signal?: AbortSignal): Promise<Dockerode.ContainerInfo[]> {
  const filters = { label: [`${LABELS.namespace}=${ctx.namespace}`, `${LABELS.taskId}=${owner.taskId}`, `${DOCKER_LABELS.serviceOf}=${owner.kind}`] };
  return engineCall(ctx, { kind: 'other', what: 'service list' }, (): Promise<Dockerode.ContainerInfo[]> => ctx.docker().listContainers({ all: true, filters, abortSignal: signal } as never) as never, { signal, idempotent: true });
}

/** Removes the owner's services and holder; none is success. */
export async function removeServices(ctx: DockerContext, owner: ServiceOwner, signal?: AbortSignal): Promise<void> {
  const found = await listServiceContainers(ctx, owner, signal);
  await Promise.all(found.map((c) => removeContainer(ctx, c.Id, signal)));
}

/** Stops the owner's services (SIGKILL; their logs stay readable until they are removed). */
export async function stopServices(ctx: DockerContext, owner: ServiceOwner, signal?: AbortSignal): Promise<void> {
  const found = await listServiceContainers(ctx, owner, signal);
  await Promise.all(
    found
      .filter((c) => c.State === 'running')
      .map((c) => engineCall(ctx, { kind: 'other', what: 'service stop' }, () => ctx.docker().getContainer(c.Id).kill({ signal: 'SIGKILL' }), { signal, idempotent: true }).catch(() => {})),
  );
}

/** The engine ID of the owner's service `name`; `NotFoundError` naming the services it has. */
export async function serviceEngineId(ctx: DockerContext, owner: ServiceOwner, name: unknown, signal?: AbortSignal): Promise<string> {
  const found = (await listServiceContainers(ctx, owner, signal)).filter((c) => c.Labels[LABELS.role] === 'service');
  const services = found.map((c) => ({ name: c.Labels[DOCKER_LABELS.service] ?? '', engineId: c.Id }));
  return findService(services, name, owner.taskId).engineId;
}
