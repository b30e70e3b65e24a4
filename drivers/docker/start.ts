import type { Duplex } from 'node:stream';
import type Dockerode from 'dockerode';
import { ConflictError, ContainerNotFoundError, ContainerStartError, StartTimeoutError } from '../../src/errors.js';
import { abortReason, delay, isAbortError, raceAbort } from '../../src/abort.js';
import type { StartScope } from '../../src/kit/lifecycle.js';
import { LABELS } from '../../src/labels.js';
import type { ResolvedTask } from '../../src/validate.js';
import { engineCall, type DockerContext } from './context.js';
import { DockerContainer } from './container.js';
import { statusCodeOf } from './engine-errors.js';
import { taskContainerName } from './naming.js';
import { removeContainerQuietly } from './removal.js';
import { containerSpec } from './spec.js';
import { deadlineRemainingMs } from './status.js';
import { pumpStdin } from './stdin-pump.js';
import { containerEnded, driveTerminal } from './terminal.js';
import { needsWritableScratchDir, prepareScratchDir } from './scratch-dir.js';
import { ensureVolume } from './volumes.js';
import { waitWhileCreated } from './events.js';
import { removeServices, sharedNetworkMode, startServices } from './services.js';

/**
 * How long a run keeps trying when a create conflicts but the container is not
 * there to adopt: the engine reserves the name before the other caller's create
 * completes, and a creator that failed removes its container.
 */
const ADOPT_WINDOW_MS = 10_000;

/**
 * Starts a validated task (under the lifecycle's shared start, see `DriverLifecycle.start`): create (pulling the image only when the engine lacks it),
 * attach stdin, start. A name conflict means the task already has a container: it is
 * adopted. Anything that fails after the create removes the container before the
 * error is rethrown.
 */
export async function runTask(ctx: DockerContext, task: ResolvedTask, scope: StartScope): Promise<DockerContainer> {
  const opSignal = scope.signal;
  const name = taskContainerName(ctx.namespace, task.id);
  if (ctx.images.policy === 'Always') await ctx.images.pull(task.image, opSignal);
  for (const mount of task.mounts) await ensureVolume(ctx, mount.volume, undefined, opSignal);
  const owner = { kind: 'task', taskId: task.id } as const;
  const networkMode = task.services.length > 0 ? sharedNetworkMode(ctx, owner) : ctx.options.networkMode;
  const spec = containerSpec({ ...task, openStdin: task.stdin !== undefined }, { name, namespace: ctx.namespace, role: 'task', networkMode });
  // The image's user (does the scratch directory need preparing?) is asked beside the create,
  // not before it: one round trip fewer on every start. It never pulls; a missing image is the
  // create's to pull, and the user is asked again once the container exists.
  const imageUser = task.defaultWorkDir && task.user === undefined ? ctx.images.userIfPresent(task.image, opSignal) : undefined;
  imageUser?.catch(() => {}); // read (and its failure thrown) in startCreated, or dropped with a failed create
  const giveUpAt = Date.now() + Math.min(ADOPT_WINDOW_MS, ctx.options.startTimeoutMs);
  for (let round = 0; Date.now() < giveUpAt; round++) {
    if (round > 0) await delay(Math.min(10 * 2 ** round, 200), opSignal);
    let engineId: string;
    try {
      engineId = await createWithImage(ctx, spec, task.image, opSignal);
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error;
      const adopted = await adopt(ctx, task.id, name, opSignal);
      if (adopted !== undefined) {
        scope.adopted();
        return adopted;
      }
      continue;
    }
    return startCreated(ctx, task, engineId, imageUser, opSignal);
  }
  throw new ConflictError(`the container of task "${task.id}" kept disappearing while it was being adopted`);
}

/**
 * Creates the container. The request is not aborted half-way (a create the engine
 * completes after the client gave up would be left behind): an abort is acted on
 * once the engine has answered, by removing what it made.
 */
export async function createWithImage(ctx: DockerContext, spec: Dockerode.ContainerCreateOptions, image: string, signal: AbortSignal): Promise<string> {
  const create = (): Promise<Dockerode.Container> => ctx.docker().createContainer(spec);
  let container: Dockerode.Container;
  try {
    container = await engineCall(ctx, { kind: 'create' }, create);
  } catch (error) {
    if (statusCodeOf((error as Error).cause) !== 404) throw error;
    if (await ctx.images.exists(image, signal)) {
      // Something else the configuration names is missing (e.g. the network).
      throw new ContainerStartError('CreateContainerError', (error as Error).message, { cause: (error as Error).cause });
    }
    await ctx.images.provideMissing(image, signal);
    container = await engineCall(ctx, { kind: 'create' }, create);
  }
  if (signal.aborted) {
    await removeContainerQuietly(ctx, container.id);
    throw abortReason(signal);
  }
  return container.id;
}

async function startCreated(ctx: DockerContext, task: ResolvedTask, engineId: string, imageUser: Promise<string | undefined> | undefined, signal: AbortSignal): Promise<DockerContainer> {
  const container = ctx.docker().getContainer(engineId);
  let connection: Duplex | undefined;
  const owner = { kind: 'task', taskId: task.id } as const;
  try {
    if (task.defaultWorkDir && (await needsWritableScratchDir(ctx, task.image, task.user ?? (await imageUser), signal))) await prepareScratchDir(ctx, engineId, task.workDir);
    // The task's container exists (its name reserves the task ID) but runs only once every service is ready.
    if (task.services.length > 0) await startServices(ctx, owner, task.services, signal);
    if (task.stdin !== undefined) {
      // Attached before start, so not a byte of stdin can be missed.
      connection = (await engineCall(ctx, { kind: 'start' }, () => container.attach({ stream: true, hijack: true, stdin: true, stdout: false, stderr: false }), { signal })) as unknown as Duplex;
    }
    await startWithin(ctx, container, ctx.options.startTimeoutMs);
    if (signal.aborted) throw abortReason(signal);
  } catch (error) {
    connection?.destroy();
    await removeContainerQuietly(ctx, engineId);
    if (task.services.length > 0) await removeServices(ctx, owner).catch(() => {});
    throw error;
  }
  if (connection !== undefined && task.stdin !== undefined) void pumpStdin(connection, task.stdin, task.tty !== undefined);
  if (task.timeoutMs !== undefined) ctx.deadlines.arm(engineId, task.timeoutMs);
  if (task.tty !== undefined) {
    const subject = { kind: 'container', taskId: task.id, namespace: ctx.namespace } as const;
    // Watching for the end (a long poll) only when there are sizes to follow until then.
    const ended = task.terminalSizes === undefined ? ctx.lifetime : containerEnded(ctx, engineId, subject);
    void driveTerminal(ctx, container, subject, task.tty, task.terminalSizes, ended);
  }
  return new DockerContainer(ctx, task.id, engineId, task.tty !== undefined, task.services.length > 0);
}

/**
 * The task's container exists already: checks that it really is this task's (exact
 * name, same namespace, same raw ID) and returns it once started. `undefined` means it
 * vanished meanwhile (its creator failed), so the caller creates anew.
 */
async function adopt(ctx: DockerContext, taskId: string, name: string, signal: AbortSignal): Promise<DockerContainer | undefined> {
  const info = await inspectTaskContainer(ctx, taskId, name, signal);
  // Being removed (its creator gave up): not adoptable; the caller creates anew once the name is free.
  if (info === undefined || info.State.Status === 'removing') return undefined;
  if (info.State.Status === 'created' && !info.State.Error) {
    const outcome = await waitWhileCreated(ctx, info.Id, ctx.options.startTimeoutMs, signal);
    if (outcome === 'gone') return undefined;
    if (outcome === 'timeout') {
      throw new StartTimeoutError(`the container of task "${taskId}" was created by another caller but did not start within ${ctx.options.startTimeoutMs} ms`, ctx.options.startTimeoutMs);
    }
  }
  return containerFromInspect(ctx, taskId, info);
}

/** Inspects a container by exact name and checks it belongs to this task of this namespace; `undefined` when absent. */
export async function inspectTaskContainer(ctx: DockerContext, taskId: string, name: string, signal?: AbortSignal): Promise<Dockerode.ContainerInspectInfo | undefined> {
  let info: Dockerode.ContainerInspectInfo;
  try {
    // Inspect by name is an exact match (the list filter would also match substrings).
    info = await engineCall(ctx, { kind: 'container', taskId, namespace: ctx.namespace }, () => ctx.docker().getContainer(name).inspect({ abortSignal: signal }), { signal, idempotent: true });
  } catch (error) {
    if (error instanceof ContainerNotFoundError) return undefined;
    throw error;
  }
  const labels = info.Config.Labels ?? {};
  if (info.Name !== `/${name}` || labels[LABELS.namespace] !== ctx.namespace || labels[LABELS.taskId] !== taskId) {
    throw new ConflictError(`container name "${name}" is taken by something that is not task "${taskId}" of namespace "${ctx.namespace}"`);
  }
  return info;
}

/** A container handle for an existing container, re-arming its deadline when it is still running. */
export function containerFromInspect(ctx: DockerContext, taskId: string, info: Dockerode.ContainerInspectInfo): DockerContainer {
  const remaining = deadlineRemainingMs(info);
  if (remaining !== undefined) ctx.deadlines.arm(info.Id, remaining);
  return new DockerContainer(ctx, taskId, info.Id, info.Config.Tty === true, info.HostConfig.NetworkMode === sharedNetworkMode(ctx, { kind: 'task', taskId }));
}


/**
 * Starts the container, giving up after `timeoutMs` with `StartTimeoutError` (the
 * caller then removes it). The start request itself is not aborted by the caller's
 * signal: an abort is acted on once the engine answered.
 */
async function startWithin(ctx: DockerContext, container: Dockerode.Container, timeoutMs: number): Promise<void> {
  const deadline = AbortSignal.timeout(timeoutMs);
  try {
    await raceAbort(engineCall(ctx, { kind: 'start' }, () => container.start()), deadline);
  } catch (error) {
    if (deadline.aborted && isAbortError(error)) throw new StartTimeoutError(`the container did not start within ${timeoutMs} ms`, timeoutMs, { cause: error });
    throw error;
  }
}
