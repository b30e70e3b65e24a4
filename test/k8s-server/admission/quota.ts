import type { KObject, StoreApi } from '../api.js';
import { add, format, parse, zero, type Quantity } from './quantity.js';

/**
 * ResourceQuota for pods: the usage of a pod as the pod evaluator computes it
 * (pkg/quota/v1/evaluator/core/pods.go `PodUsageFunc`, `podComputeUsageHelper`,
 * `QuotaV1Pod`), checked at admission (plugin/pkg/admission/resourcequota/controller.go
 * `checkRequest`) and recomputed into `status.used` by the quota controller
 * (pkg/controller/resourcequota `syncResourceQuota`).
 */

type Usage = Record<string, Quantity>;

/** The resources the pod evaluator counts (`podResources`). */
const POD_RESOURCES = new Set(['pods', 'count/pods', 'cpu', 'memory', 'requests.cpu', 'requests.memory', 'limits.cpu', 'limits.memory']);
/** Resources whose quota makes every container name them (`validationSet`). */
const REQUIRED_PER_CONTAINER = new Set(['cpu', 'memory', 'requests.cpu', 'requests.memory', 'limits.cpu', 'limits.memory']);

function quantities(list: Record<string, unknown> | undefined, names: string[]): Usage {
  const out: Usage = {};
  for (const name of names) {
    const q = parse(list?.[name]);
    if (q) out[name] = q;
  }
  return out;
}

/** `podComputeUsageHelper`: requests count as cpu/memory and requests.*, limits as limits.*. */
function computeUsage(requests: Usage, limits: Usage): Usage {
  const usage: Usage = { pods: parse('1')!, 'count/pods': parse('1')! };
  for (const r of ['cpu', 'memory']) {
    if (requests[r]) usage[r] = usage[`requests.${r}`] = requests[r];
    if (limits[r]) usage[`limits.${r}`] = limits[r];
  }
  return usage;
}

/** Sum over app containers, then the max with each init container (resourcehelper.PodRequests / PodLimits). */
function podTotals(spec: any, field: 'requests' | 'limits'): Usage {
  const total: Usage = {};
  for (const c of spec?.containers ?? []) for (const [k, v] of Object.entries(quantities(c.resources?.[field], ['cpu', 'memory']))) total[k] = add(total[k] ?? zero(), v);
  for (const c of spec?.initContainers ?? []) {
    for (const [k, v] of Object.entries(quantities(c.resources?.[field], ['cpu', 'memory']))) if (!total[k] || v.nanos > total[k]!.nanos) total[k] = v;
  }
  return total;
}

/** A pod's usage; nothing for a terminal pod or one past its deletion grace (`QuotaV1Pod`). */
export function podUsage(pod: KObject, now = Date.now()): Usage {
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') return {};
  const { deletionTimestamp, deletionGracePeriodSeconds } = pod.metadata;
  if (deletionTimestamp && deletionGracePeriodSeconds !== undefined && now > Date.parse(deletionTimestamp) + deletionGracePeriodSeconds * 1000) return {};
  return computeUsage(podTotals(pod.spec, 'requests'), podTotals(pod.spec, 'limits'));
}

const hardOf = (quota: KObject): Record<string, unknown> => quota.spec?.hard ?? {};

/** The usage the quota controller writes: every hard resource the pod evaluator knows, summed over live pods. */
function usedIn(store: StoreApi, quota: KObject): Record<string, string> {
  const tracked = Object.keys(hardOf(quota)).filter((k) => POD_RESOURCES.has(k));
  const total: Usage = {};
  // Ended pods use nothing (podUsage): they are not copied out of the store.
  const live = (pod: Readonly<KObject>): boolean => pod.status?.phase !== 'Succeeded' && pod.status?.phase !== 'Failed';
  for (const pod of store.list('pods', quota.metadata.namespace, undefined, live)) {
    const usage = podUsage(pod);
    for (const k of tracked) if (usage[k]) total[k] = add(total[k] ?? zero(), usage[k]!);
  }
  return Object.fromEntries(tracked.map((k) => [k, format(total[k] ?? zero())]));
}

/** The quota controller's sync: `status.hard` from the spec, `status.used` recomputed. */
export function syncQuotas(store: StoreApi, namespace?: string): void {
  for (const quota of store.list('resourcequotas', namespace)) {
    const hard = Object.fromEntries(Object.entries(hardOf(quota)).map(([k, v]) => [k, format(parse(v) ?? zero())]));
    const status = { hard, used: usedIn(store, quota) };
    if (JSON.stringify(status) === JSON.stringify(quota.status ?? {})) continue;
    store.update('resourcequotas', quota.metadata.namespace, quota.metadata.name, (q) => {
      q.status = status;
    });
  }
}

/**
 * Admits a new pod against every quota of its namespace, as `checkRequest` does with the
 * quotas' `status.hard` (a quota the controller has not synced yet does not apply): first
 * each container must name the compute resources a quota limits ("failed quota: … must
 * specify …"), then used plus requested must stay within hard ("exceeded quota: …", the
 * exceeded resources only, each list as `prettyPrint` sorts and prints it);
 * then the usage is charged, but for a dry run, which is checked all the same
 * (apiserver admission/plugin/resourcequota/controller.go `checkQuotas`: "Don't update quota
 * for admissionAttributes that correspond to dry-run requests", after `checkRequest`).
 * Returns the reason of a refusal, or undefined.
 */
export function admitPodQuota(store: StoreApi, pod: KObject, dryRun = false): string | undefined {
  const quotas = store.list('resourcequotas', pod.metadata.namespace).sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  const interesting: Array<{ quota: KObject; keys: string[] }> = [];
  for (const quota of quotas) {
    const keys = Object.keys((quota.status?.hard ?? {}) as Record<string, string>).filter((k) => POD_RESOURCES.has(k));
    const required = keys.filter((k) => REQUIRED_PER_CONTAINER.has(k));
    // pods.go `Constraints` / `enforcePodContainerConstraints`: per container, what it does not name.
    const missing = new Map<string, Set<string>>();
    for (const c of [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])]) {
      const own = computeUsage(quantities(c.resources?.requests, ['cpu', 'memory']), quantities(c.resources?.limits, ['cpu', 'memory']));
      for (const r of required) if (!own[r]) missing.set(r, (missing.get(r) ?? new Set()).add(c.name));
    }
    if (missing.size) {
      const parts = [...missing.keys()].sort().map((r) => `${r} for: ${[...missing.get(r)!].sort().join(',')}`);
      return `failed quota: ${quota.metadata.name}: must specify ${parts.join('; ')}`;
    }
    const used = (quota.status?.used ?? {}) as Record<string, string>;
    const unknown = keys.filter((k) => used[k] === undefined);
    if (unknown.length) return `status unknown for quota: ${quota.metadata.name}, resource: ${unknown.sort().join(',')}`;
    if (keys.length) interesting.push({ quota, keys });
  }
  const requested = podUsage(pod);
  const charges: Array<[KObject, Record<string, string>]> = [];
  for (const { quota, keys } of interesting) {
    const hard = quota.status.hard as Record<string, string>;
    const used = quota.status.used as Record<string, string>;
    const asked = keys.filter((k) => requested[k] && requested[k]!.nanos !== 0n);
    const after = Object.fromEntries(asked.map((k) => [k, add(parse(used[k]) ?? zero(), requested[k]!)]));
    const exceeded = asked.filter((k) => after[k]!.nanos > (parse(hard[k]) ?? zero()).nanos).sort();
    if (exceeded.length) {
      const list = (values: Record<string, string>) => exceeded.filter((k) => values[k] !== undefined).map((k) => `${k}=${format(parse(values[k]) ?? zero())}`).join(',');
      const requestedText = exceeded.map((k) => `${k}=${format(requested[k]!)}`).join(',');
      return `exceeded quota: ${quota.metadata.name}, requested: ${requestedText}, used: ${list(used)}, limited: ${list(hard)}`;
    }
    charges.push([quota, Object.fromEntries(asked.map((k) => [k, format(after[k]!)]))]);
  }
  if (dryRun) return undefined;
  // The plugin writes the new usage before the object is stored; the controller corrects it later.
  for (const [quota, used] of charges) {
    store.update('resourcequotas', quota.metadata.namespace, quota.metadata.name, (q) => {
      q.status = { ...(q.status ?? {}), used: { ...(q.status?.used ?? {}), ...used } };
    });
  }
  return undefined;
}

/** Starts the quota controller: a sync on every change of pods or quotas in a namespace. */
export function startQuotaController(store: StoreApi): () => void {
  const pending = new Set<string>();
  const unsubscribe = store.subscribe((event) => {
    if (event.resource !== 'pods' && event.resource !== 'resourcequotas') return;
    const namespace = event.object.metadata.namespace ?? '';
    if (pending.has(namespace)) return;
    pending.add(namespace);
    // Never write from inside a store listener.
    setImmediate(() => {
      pending.delete(namespace);
      syncQuotas(store, namespace);
    });
  });
  syncQuotas(store);
  return unsubscribe;
}
