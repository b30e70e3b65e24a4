import type { Duplex } from 'node:stream';
import type Dockerode from 'dockerode';
import type { ClusterContext, KObject } from '../../api.js';
import { ensureImage } from './images.js';
import { pullCredentials } from './pull-secrets.js';
import { ContainerConfigError, resolveEnv } from './env.js';
import { verifyRunAsNonRoot } from './security.js';
import { containerCreateOptions, type VolumeSources } from './spec.js';
import { instanceLabels } from './labels.js';
import { backoffMs, type Waker } from './wake.js';
import { now, type ContainerRecord, type ContainerState } from './status.js';
import type { ExitInfo } from './exits.js';
import type { PodContainers } from './pod-containers.js';

/** What a container run needs from its pod worker. */
export interface RunEnv {
  ctx: ClusterContext;
  pod: () => KObject;
  volumes: VolumeSources;
  podIP: string;
  /** The Docker container holding the pod's network namespace, when it has one. */
  networkHolder?: string | undefined;
  /** The pod's Docker containers: every one made is recorded there, to be stopped and removed with the pod. */
  containers: PodContainers;
  signal: AbortSignal;
  waker: Waker;
  flush: () => void;
  event: (type: 'Normal' | 'Warning', reason: string, message: string) => void;
}

const iso = (value: string | undefined): string => (value && !value.startsWith('0001') ? value.replace(/\.\d+Z$/, 'Z') : now());

/** The terminated state of an exited container, as a kubelet reports it. */
export function terminatedState(exit: ExitInfo, startedAt?: string): ContainerState {
  const reason = exit.oomKilled ? 'OOMKilled' : exit.exitCode === 0 ? 'Completed' : 'Error';
  return {
    terminated: {
      exitCode: exit.exitCode,
      reason,
      ...(exit.error ? { message: exit.error } : {}),
      startedAt: exit.startedAt ?? startedAt ?? exit.finishedAt,
      finishedAt: exit.finishedAt,
      containerID: `docker://${exit.id}`,
    },
  };
}

/**
 * Attaches to the container's output before it starts and writes it to the container's CRI
 * log, as the runtime does from the container's first byte. Without the attach (the engine
 * refused it), its logs are read from the engine's own log.
 */
async function captureOutput(env: RunEnv, container: Dockerode.Container, spec: any, restartCount: number): Promise<void> {
  const pod = env.pod();
  try {
    const output = (await container.attach({ stream: true, stdout: true, stderr: true, hijack: true })) as unknown as Duplex;
    env.ctx.containerLogs.capture(container.id, { namespace: pod.metadata.namespace ?? 'default', name: pod.metadata.name, uid: pod.metadata.uid }, spec.name, restartCount, Boolean(spec.tty), output);
  } catch {
    // Read from the engine's log instead (see servePodLog).
  }
}

/** Sets the waiting state and waits for a back-off or a wake-up; false when the pod is stopping. */
async function waitInState(env: RunEnv, record: ContainerRecord, reason: string, message: string, ms: number): Promise<boolean> {
  record.state = { waiting: { reason, message } };
  env.flush();
  await env.waker.wait(ms, env.signal);
  return !env.signal.aborted;
}

/** Starts asked again at most, for a start whose answer was lost. */
const START_ATTEMPTS = 5;

/**
 * Starts the container. A start whose answer was lost (the engine's connection dropped: no
 * status code) may have run it or not, and the container's state tells: started (running, or
 * ended already), it goes on as a start that answered; still made and never started, with no
 * error of the runtime, the start is asked again, as a kubelet starts again a container its
 * runtime reports created (pkg/kubelet/container/helpers.go `ShouldContainerBeRestarted`:
 * "Always restart container in the unknown, or in the created state"). A start the runtime
 * refused is thrown: the container cannot run.
 */
async function startProcess(env: RunEnv, container: Dockerode.Container): Promise<void> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      await container.start();
      return;
    } catch (error) {
      const status = (error as { statusCode?: number }).statusCode;
      // 304: already started (an earlier start that seemed lost did run it).
      if (status === 304) return;
      if (status !== undefined) throw error;
      const info = await container.inspect().catch(() => undefined);
      if (info === undefined) throw error;
      if (info.State.Status !== 'created') return;
      if (info.State.Error || attempt >= START_ATTEMPTS || env.signal.aborted) throw error;
      await env.waker.wait(250 * attempt, env.signal);
    }
  }
}

/**
 * Makes one run of the container: image, config, create, start. Returns the Docker
 * container id once it runs (state running), or undefined when the pod stops first.
 */
export async function startContainer(env: RunEnv, spec: any, record: ContainerRecord): Promise<string | undefined> {
  const { ctx } = env;
  let pullFailures = 0;
  let createFailures = 0;
  while (!env.signal.aborted) {
    const credentials = pullCredentials(ctx.store, env.pod(), spec.image ?? '', env.event);
    const image = await ensureImage(ctx.docker, spec, credentials, env.event);
    if (env.signal.aborted) return undefined;
    if (!image.ok) {
      if (image.reason !== 'ErrImagePull') {
        await waitInState(env, record, image.reason, image.message, 300_000);
        continue;
      }
      pullFailures += 1;
      record.state = { waiting: { reason: 'ErrImagePull', message: image.message } };
      env.flush();
      const message = `Back-off pulling image "${spec.image}"`;
      // The failed state is visible for a moment before the back-off state, as in a kubelet.
      await env.waker.wait(1_000, env.signal);
      env.event('Normal', 'BackOff', message);
      env.event('Warning', 'Failed', 'Error: ImagePullBackOff');
      await waitInState(env, record, 'ImagePullBackOff', message, backoffMs(pullFailures));
      continue;
    }
    record.imageID = image.imageID;
    let options;
    try {
      await verifyRunAsNonRoot(ctx.docker, env.pod(), spec);
      const envVars = resolveEnv(ctx.store, env.pod(), spec, env.podIP);
      options = containerCreateOptions({ pod: env.pod(), container: spec, instanceLabels: instanceLabels(ctx), restartCount: record.restartCount, env: envVars, volumes: env.volumes, networkHolder: env.networkHolder });
    } catch (error) {
      if (!(error instanceof ContainerConfigError)) throw error;
      env.event('Warning', 'Failed', `Error: ${error.message}`);
      await waitInState(env, record, 'CreateContainerConfigError', error.message, 60_000);
      continue;
    }
    let container: Dockerode.Container;
    try {
      const injected = ctx.runtimeFaults?.takeCreateFailure();
      if (injected !== undefined) throw new Error(injected);
      // A leftover of the same run (e.g. after a crash between create and start) is replaced.
      await ctx.docker.getContainer(options.name!).remove({ force: true }).catch(() => undefined);
      env.containers.creating(options.name!, spec.name);
      container = await ctx.docker.createContainer(options);
      env.containers.created(options.name!, container.id);
    } catch (error) {
      createFailures += 1;
      const message = (error as Error).message;
      env.event('Warning', 'Failed', `Error: ${message}`);
      await waitInState(env, record, 'CreateContainerError', message, backoffMs(createFailures));
      continue;
    }
    record.containerID = `docker://${container.id}`;
    env.event('Normal', 'Created', `Created container: ${spec.name}`);
    // From its create until its start is answered, a kill of the pod waits for this container
    // (PodContainers.startsSettled), and then finds it either started or removed here.
    let settled!: () => void;
    env.containers.starting(new Promise<void>((resolve) => (settled = resolve)));
    try {
      await captureOutput(env, container, spec, record.restartCount);
      if (env.signal.aborted) {
        // Stopped before its start: a never-started container has no exit to wait for.
        await container.remove({ force: true }).catch(() => undefined);
        env.containers.exited(container.id);
        return undefined;
      }
      await startProcess(env, container);
      env.containers.started(container.id);
    } catch (error) {
      const info = await container.inspect().catch(() => undefined);
      // A start the runtime refused may leave the container made and never started: it is then stopped (removed) with the pod.
      if (info?.State.Status !== 'created') env.containers.exited(container.id);
      const message = (error as { json?: { message?: string } }).json?.message ?? (error as Error).message;
      record.state = {
        terminated: {
          exitCode: info?.State.ExitCode ?? 128,
          reason: 'ContainerCannotRun',
          message,
          startedAt: iso(info?.State.StartedAt),
          finishedAt: iso(info?.State.FinishedAt),
          containerID: `docker://${container.id}`,
        },
      };
      env.event('Warning', 'Failed', `Error: failed to start container "${spec.name}": ${message}`);
      // A kill waits for this start (PodContainers.startsSettled), so a stopping pod does not
      // make it fail; a start that failed anyway while the pod is being stopped is left to the
      // status its worker writes next.
      if (!env.signal.aborted) env.flush();
      return container.id;
    } finally {
      settled();
    }
    // It ran, though it may have ended already: its exit (and whether it was an OOM kill) is
    // read by the exit monitor, as every exit is.
    const info = await container.inspect().catch(() => undefined);
    record.state = { running: { startedAt: iso(info?.State.StartedAt) } };
    // With a startup probe, started only once it succeeded (pkg/kubelet/prober/prober_manager.go UpdatePodStatus).
    record.started = !spec.startupProbe;
    env.event('Normal', 'Started', `Started container ${spec.name}`);
    env.flush();
    return container.id;
  }
  return undefined;
}
