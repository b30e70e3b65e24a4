import { chmod, lchown, lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type Dockerode from 'dockerode';
import type { KObject } from '../../api.js';
import { ContainerConfigError } from './env.js';

/** The pod's and container's security settings merged, container fields winning. */
function effective(pod: KObject, container: any): any {
  return { ...(pod.spec?.securityContext ?? {}), ...(container?.securityContext ?? {}) };
}

/**
 * With `runAsNonRoot`, the kubelet refuses to create a container that would run as root,
 * judged from `runAsUser`, else the image's user (a name cannot be judged): the container
 * waits with `CreateContainerConfigError` (pkg/kubelet/kuberuntime/security_context_others.go
 * `verifyRunAsNonRoot`; the pod printed as `format.Pod`: `<name>_<namespace>(<uid>)`).
 */
export async function verifyRunAsNonRoot(docker: Dockerode, pod: KObject, container: any): Promise<void> {
  const security = effective(pod, container);
  if (security.runAsNonRoot !== true) return;
  const where = `(pod: "${pod.metadata.name}_${pod.metadata.namespace}(${pod.metadata.uid})", container: ${container.name})`;
  if (typeof security.runAsUser === 'number') {
    if (security.runAsUser === 0) throw new ContainerConfigError(`container's runAsUser breaks non-root policy ${where}`);
    return;
  }
  const info = await docker.getImage(container.image).inspect();
  const user = (info.Config?.User ?? '').split(':')[0] ?? '';
  if (user === '' || user === '0') throw new ContainerConfigError(`container has runAsNonRoot and image will run as root ${where}`);
  if (!/^\d+$/.test(user)) throw new ContainerConfigError(`container has runAsNonRoot and image has non-numeric user (${user}), cannot verify user is non-root ${where}`);
}

/** The pod's `fsGroup`, when it has one. */
export function fsGroupOf(pod: KObject): number | undefined {
  const group = pod.spec?.securityContext?.fsGroup;
  return typeof group === 'number' ? group : undefined;
}

/**
 * `fsGroup` ownership of a writable volume, as the kubelet sets it at every mount: each
 * entry's group becomes the fsGroup and gets read-write (directories also execute and
 * setgid, so new files inherit the group); symlinks only change group (pkg/volume/volume_linux.go
 * `SetVolumeOwnership`, `changeFilePermission`). The processes get the group as a
 * supplementary one (see `containerCreateOptions`).
 */
export async function setVolumeOwnership(root: string, fsGroup: number): Promise<void> {
  const walk = async (path: string): Promise<void> => {
    const info = await lstat(path);
    await lchown(path, info.uid, fsGroup);
    if (info.isSymbolicLink()) return;
    await chmod(path, (info.mode & 0o7777) | (info.isDirectory() ? 0o2770 : 0o660));
    if (!info.isDirectory()) return;
    for (const entry of await readdir(path)) await walk(join(path, entry));
  };
  await walk(root);
}
