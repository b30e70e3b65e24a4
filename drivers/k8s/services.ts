import type { V1Container, V1ContainerStatus, V1Pod, V1Probe } from '@kubernetes/client-node';
import { ContainerNotFoundError, ServiceNotReadyError, UnsupportedCapabilityError } from '../../src/errors.js';
import { findService, type ResolvedReadiness, type ResolvedService } from '../../src/services.js';
import type { LogOptions, LogResult } from '../../src/types.js';
import type { K8sContext } from './context.js';
import { readPodLogs } from './logs.js';
import type { LogStreamSupport } from './log-streams.js';
import { lostRule, readPod, watchPod } from './pods.js';
import { toContainerStatus } from './pod-status.js';

/**
 * Service containers on Kubernetes: containers of the task's pod, so they share its network
 * namespace. Each is a sidecar, an init container with `restartPolicy: Always` (KEP-753): the
 * kubelet starts the sidecars in order before the task's container, holds each next container
 * until the sidecar's `startupProbe` has passed (the readiness check), and stops them once the
 * task's container has ended, so the pod completes (a Job too). Where the API server has no
 * sidecars (SidecarContainers off: Kubernetes 1.28), tasks with services are refused.
 */

/** Seconds between two readiness checks: the API's smallest `periodSeconds`. */
const PROBE_PERIOD_SECONDS = 1;
/**
 * Checks beyond the readiness timeout before the kubelet gives up on a service and restarts it:
 * the driver decides first (it removes the pod at the timeout), so a slow check is never cut short
 * by a restart the driver would misread as the service's own exit.
 */
const PROBE_SPARE_CHECKS = 5;

/** The sidecar containers of a pod's services. */
export function serviceContainers(services: readonly ResolvedService[], base: Pick<V1Container, 'imagePullPolicy' | 'securityContext' | 'resources'>, escape: (value: string) => string): V1Container[] {
  return services.map((service) => ({
    name: service.name,
    image: service.image,
    ...(base.imagePullPolicy === undefined ? {} : { imagePullPolicy: base.imagePullPolicy }),
    // Kubernetes expands $(VAR) in command and env values, never in a probe's command.
    ...(service.command === undefined ? {} : { command: service.command.map(escape) }),
    ...(Object.keys(service.env).length === 0 ? {} : { env: Object.entries(service.env).map(([name, value]) => ({ name, value: escape(value) })) }),
    restartPolicy: 'Always',
    ...(service.ready === undefined ? {} : { startupProbe: startupProbe(service.ready) }),
    ...(base.resources === undefined ? {} : { resources: base.resources }),
    ...(base.securityContext === undefined ? {} : { securityContext: base.securityContext }),
  }));
}

function startupProbe(ready: ResolvedReadiness): V1Probe {
  const seconds = Math.ceil(ready.timeoutMs / 1000);
  const timing = { periodSeconds: PROBE_PERIOD_SECONDS, failureThreshold: Math.ceil(seconds / PROBE_PERIOD_SECONDS) + PROBE_SPARE_CHECKS, timeoutSeconds: Math.min(seconds, 10) };
  return 'command' in ready ? { exec: { command: [...ready.command] }, ...timing } : { tcpSocket: { port: ready.tcpPort as never }, ...timing };
}

const sidecarSupport = new WeakMap<K8sContext, Promise<boolean>>();

/**
 * Whether the API server keeps `restartPolicy: Always` on an init container: a server without
 * the SidecarContainers gate drops the field (pkg/api/pod/util.go dropDisabledPodFields) and
 * would then refuse the sidecar's probe, or run it as an ordinary init container that never
 * ends. Asked once per driver with a server-side dry run (nothing is stored).
 */
export async function assertSidecars(ctx: K8sContext, signal?: AbortSignal): Promise<void> {
  let support = sidecarSupport.get(ctx);
  if (support === undefined) {
    support = ctx
      .call('dry-run create of a pod with a sidecar', () =>
        ctx.core.createNamespacedPod({
          namespace: ctx.ns,
          dryRun: 'All',
          body: {
            metadata: { generateName: 'drivetrain-sidecar-probe-' },
            spec: { restartPolicy: 'Never', initContainers: [{ name: 'probe', image: ctx.options.helperImage, restartPolicy: 'Always' }], containers: [{ name: 'main', image: ctx.options.helperImage }] },
          },
        }),
      )
      .then((pod) => pod.spec?.initContainers?.[0]?.restartPolicy === 'Always');
    sidecarSupport.set(ctx, support);
    // A failed question is asked again next time.
    support.catch(() => sidecarSupport.delete(ctx));
  }
  signal?.throwIfAborted();
  if (!(await support)) {
    throw new UnsupportedCapabilityError('k8s', 'services', 'run service containers on this cluster: its API server has no sidecar containers (init containers with restartPolicy: Always; SidecarContainers, on from Kubernetes 1.29)');
  }
}

/**
 * Watches the services of a starting pod: a service that ended before it was ready (its
 * container terminated, now or in its last state, before it ever started) or that has run for
 * its readiness timeout without passing its check is a {@link ServiceNotReadyError}.
 */
export class ServiceWatch {
  /** When this driver first saw each service's container running (its readiness clock). */
  private readonly runningSince = new Map<string, number>();

  constructor(private readonly services: readonly ResolvedService[]) {}

  /**
   * The error of the first service that failed; `'clock'` when a readiness clock has just
   * started (the caller re-arms its timer for it); else `undefined`.
   */
  problem(pod: V1Pod, now: number): ServiceNotReadyError | 'clock' | undefined {
    let clock = false;
    for (const service of this.services) {
      const status = pod.status?.initContainerStatuses?.find((s) => s.name === service.name);
      if (status === undefined || status.started === true) continue;
      const timeoutMs = service.ready?.timeoutMs ?? 0;
      const ended = status.state?.terminated ?? status.lastState?.terminated;
      if (ended !== undefined) return new ServiceNotReadyError(service.name, 'Exited', `exit code ${ended.exitCode}${ended.reason === undefined ? '' : `, ${ended.reason}`}`, timeoutMs);
      if (status.state?.running === undefined) continue;
      const since = this.runningSince.get(service.name);
      if (since === undefined) {
        this.runningSince.set(service.name, now);
        clock = true;
      } else if (service.ready !== undefined && now - since >= timeoutMs) {
        return new ServiceNotReadyError(service.name, 'Timeout', 'its startup probe has not passed', timeoutMs);
      }
    }
    return clock ? 'clock' : undefined;
  }

  /** Milliseconds until the next readiness timeout of a running service, for the caller's timer. */
  untilNextTimeout(now: number): number {
    let next = Number.POSITIVE_INFINITY;
    for (const service of this.services) {
      const since = this.runningSince.get(service.name);
      if (since !== undefined && service.ready !== undefined) next = Math.min(next, since + service.ready.timeoutMs - now);
    }
    return next;
  }
}

function serviceStatus(pod: V1Pod | undefined, name: string): V1ContainerStatus | undefined {
  return pod?.status?.initContainerStatuses?.find((s) => s.name === name);
}

/** Writes the output of the pod's service `options.service` (its container's log, pods/log `container=`). */
export async function readServiceLogs(ctx: K8sContext, podName: string, ownerId: string, options: LogOptions, support: LogStreamSupport): Promise<LogResult> {
  const pod = await readPod(ctx, podName, options.signal);
  if (pod === undefined) throw new ContainerNotFoundError(ownerId, { namespace: ctx.options.namespace });
  const services = (pod.spec?.initContainers ?? []).filter((c) => c.restartPolicy === 'Always');
  const { name } = findService(services, options.service, ownerId);
  const ended = (p: V1Pod | undefined): boolean => p === undefined || serviceStatus(p, name)?.state?.terminated !== undefined || toContainerStatus(p, lostRule(ctx)).done;
  const source = {
    kc: ctx.kc,
    namespace: ctx.ns,
    pod: podName,
    container: name,
    waitForStart: (s?: AbortSignal) => watchPod(ctx, podName, (p) => (serviceStatus(p, name)?.state?.running !== undefined ? true : ended(p) ? serviceStatus(p, name)?.containerID !== undefined : undefined), s),
    hasEnded: async (s?: AbortSignal) => ended(await readPod(ctx, podName, s)),
    retry: ctx.options.retry,
    idleTimeoutMs: ctx.options.livenessIntervalMs,
  };
  return readPodLogs(source, { stdout: options.stdout, stderr: options.stderr, follow: options.follow === true, support, signal: options.signal });
}
