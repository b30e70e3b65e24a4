import type { ClusterContext, KObject } from '../../api.js';
import { errors } from '../../status.js';

/** The pod, or 404 `pods "p" not found`. */
export function getPod(ctx: ClusterContext, namespace: string, name: string): KObject {
  const pod = ctx.store.get('pods', namespace, name);
  if (!pod) throw errors.notFound('pods', name);
  return pod;
}

/** The container named by the `container` param (default: the sole container), or 400 as a kubelet answers. */
export function pickContainer(pod: KObject, requested: string | null): string {
  const name = pod.metadata.name;
  const app: string[] = (pod.spec.containers ?? []).map((c: any) => c.name);
  const all = [...app, ...(pod.spec.initContainers ?? []).map((c: any) => c.name)];
  if (!requested) {
    if (app.length === 1) return app[0]!;
    throw errors.badRequest(`a container name must be specified for pod ${name}, choose one of: [${app.join(' ')}]`);
  }
  if (!all.includes(requested)) throw errors.badRequest(`container ${requested} is not valid for pod ${name}`);
  return requested;
}

/** The container's status entry (app or init container). */
export function containerStatus(pod: KObject, container: string): any {
  const statuses = [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? [])];
  return statuses.find((s: any) => s.name === container);
}

export function containerSpec(pod: KObject, container: string): any {
  return [...(pod.spec.containers ?? []), ...(pod.spec.initContainers ?? [])].find((c: any) => c.name === container);
}

export const dockerId = (containerID: string | undefined): string | undefined => containerID?.replace(/^docker:\/\//, '') || undefined;

/** True for `true`/`1` query flags (kubectl sends `true`, client-node `true`/`false`). */
export function flag(query: URLSearchParams, name: string): boolean {
  const value = query.get(name);
  return value === 'true' || value === '1';
}
