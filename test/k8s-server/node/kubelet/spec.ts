import type { ContainerCreateOptions } from 'dockerode';
import type { KObject } from '../../api.js';
import { NODE_LABELS, dockerContainerName } from './labels.js';
import { expand } from './env.js';
import { parseQuantity } from './quantity.js';

/** Where each pod volume comes from on the Docker side. */
export type VolumeSources = Map<string, { type: 'volume' | 'bind'; source: string; readOnly?: boolean }>;

/**
 * Docker create options for one run of a pod's container: command/args over the
 * image's Entrypoint/Cmd as Kubernetes composes them, env, mounts, user, limits.
 */
export function containerCreateOptions(args: {
  pod: KObject;
  container: any;
  /** The labels of every Docker container and volume of the server instance (`instanceLabels`). */
  instanceLabels: Record<string, string>;
  restartCount: number;
  env: Map<string, string>;
  volumes: VolumeSources;
  /** The Docker container that holds the pod's network namespace, when the pod has one (see network.ts). */
  networkHolder?: string | undefined;
}): ContainerCreateOptions {
  const { pod, container, env } = args;
  const ref = { namespace: pod.metadata.namespace ?? 'default', name: pod.metadata.name, uid: pod.metadata.uid };
  const podSecurity = pod.spec.securityContext ?? {};
  const security = { ...podSecurity, ...(container.securityContext ?? {}) };
  const user = security.runAsUser !== undefined ? `${security.runAsUser}${security.runAsGroup !== undefined ? `:${security.runAsGroup}` : ''}` : undefined;
  // fsGroup and supplementalGroups are the process's supplementary groups (CRI LinuxSandboxSecurityContext).
  const groups = [...(typeof podSecurity.fsGroup === 'number' ? [podSecurity.fsGroup] : []), ...((podSecurity.supplementalGroups ?? []) as number[])].map(String);
  const limits = container.resources?.limits ?? {};
  const requests = container.resources?.requests ?? {};
  const cpuLimit = parseQuantity(limits.cpu);
  const memoryLimit = parseQuantity(limits.memory);
  const cpuRequest = parseQuantity(requests.cpu ?? limits.cpu);
  const binds: string[] = [];
  const mounts: NonNullable<ContainerCreateOptions['HostConfig']>['Mounts'] = [];
  for (const mount of container.volumeMounts ?? []) {
    const source = args.volumes.get(mount.name);
    if (!source) continue;
    const readOnly = Boolean(mount.readOnly || source.readOnly);
    if (source.type === 'bind') {
      const path = mount.subPath ? `${source.source}/${mount.subPath}` : source.source;
      binds.push(`${path}:${mount.mountPath}${readOnly ? ':ro' : ''}`);
    } else {
      // Kubernetes never copies image content into a volume; Docker's copy-up would also reset its mode.
      mounts.push({ Type: 'volume', Source: source.source, Target: mount.mountPath, ReadOnly: readOnly, VolumeOptions: { NoCopy: true } as never });
    }
  }
  const expandAll = (list: unknown): string[] | undefined => (Array.isArray(list) ? list.map((s) => expand(String(s), env)) : undefined);
  const command = expandAll(container.command);
  const cmd = expandAll(container.args);
  return {
    name: dockerContainerName(ref, container.name, args.restartCount),
    Image: container.image,
    ...(command ? { Entrypoint: command } : {}),
    // An overridden Entrypoint drops the image's Cmd in Docker, as `command` without `args` does in Kubernetes.
    ...(cmd ? { Cmd: cmd } : command ? { Cmd: [] } : {}),
    ...(container.workingDir ? { WorkingDir: container.workingDir } : {}),
    Env: [...env].map(([k, v]) => `${k}=${v}`),
    ...(user ? { User: user } : {}),
    // A container joined to the pod's network namespace has the holder's host name (Docker refuses both).
    ...(args.networkHolder ? {} : { Hostname: podHostname(pod) }),
    OpenStdin: Boolean(container.stdin),
    StdinOnce: Boolean(container.stdin && container.stdinOnce),
    AttachStdin: false,
    Tty: Boolean(container.tty),
    Labels: {
      ...args.instanceLabels,
      [NODE_LABELS.namespace]: ref.namespace,
      [NODE_LABELS.pod]: ref.name,
      [NODE_LABELS.uid]: ref.uid,
      [NODE_LABELS.container]: container.name,
      [NODE_LABELS.restartCount]: String(args.restartCount),
    },
    HostConfig: {
      NetworkMode: args.networkHolder ? `container:${args.networkHolder}` : 'none',
      Privileged: Boolean(security.privileged),
      ...(groups.length > 0 ? { GroupAdd: groups } : {}),
      Binds: binds,
      Mounts: mounts,
      ...(cpuLimit ? { NanoCpus: Math.round(cpuLimit * 1e9) } : {}),
      ...(cpuRequest ? { CpuShares: Math.max(2, Math.round(cpuRequest * 1024)) } : {}),
      // No swap, like a kubelet: the limit is the whole budget.
      ...(memoryLimit ? { Memory: Math.round(memoryLimit), MemorySwap: Math.round(memoryLimit) } : {}),
      ...(security.readOnlyRootFilesystem ? { ReadonlyRootfs: true } : {}),
    },
  };
}

/** The pod's host name: `spec.hostname`, else its name (pkg/kubelet/kubelet_pods.go GeneratePodHostNameAndDomain). */
export function podHostname(pod: KObject): string {
  return pod.spec.hostname ?? pod.metadata.name.slice(0, 63);
}
