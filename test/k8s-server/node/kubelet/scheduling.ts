import { cpus, totalmem } from 'node:os';
import type { KObject } from '../../api.js';
import { parseQuantity } from './quantity.js';

/**
 * The single node as the scheduler and the kubelet's admission see it: labels, taints and
 * allocatable resources, and the checks both make before a pod may run there.
 */

/** A node taint (`spec.taints[]`). */
export interface Taint {
  key: string;
  value?: string;
  effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
}

/** How the node is configured (`startLocalCluster({ node })`). */
export interface NodeOptions {
  /** Extra labels, over `kubernetes.io/hostname`, `kubernetes.io/os` and `kubernetes.io/arch`. */
  labels?: Record<string, string>;
  /** @default none */
  taints?: Taint[];
  /** Allocatable resources. @default the machine's cores and memory, 110 pods */
  allocatable?: { cpu?: string; memory?: string; pods?: number };
}

/** The node model both checks read. */
export interface NodeModel {
  name: string;
  labels: Record<string, string>;
  taints: Taint[];
  /** Millicores, bytes, pods. */
  allocatable: { cpuMillis: number; memoryBytes: number; pods: number };
}

export function nodeModel(name: string, options: NodeOptions = {}): NodeModel {
  const arch = process.arch === 'x64' ? 'amd64' : process.arch;
  return {
    name,
    labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': arch, ...options.labels },
    taints: options.taints ?? [],
    allocatable: {
      cpuMillis: Math.round((parseQuantity(options.allocatable?.cpu) ?? cpus().length) * 1000),
      memoryBytes: parseQuantity(options.allocatable?.memory) ?? totalmem(),
      pods: options.allocatable?.pods ?? 110,
    },
  };
}

/** A pod's requests: the larger of its app containers' sum and its largest init container (resourcehelper `PodRequests`). */
export function podRequests(pod: KObject): { cpuMillis: number; memoryBytes: number } {
  const of = (container: any, resource: string): number => parseQuantity(container?.resources?.requests?.[resource] ?? container?.resources?.limits?.[resource]) ?? 0;
  const sum = (resource: string): number => (pod.spec?.containers ?? []).reduce((total: number, c: any) => total + of(c, resource), 0);
  const initMax = (resource: string): number => Math.max(0, ...(pod.spec?.initContainers ?? []).map((c: any) => of(c, resource)));
  return {
    cpuMillis: Math.round(Math.max(sum('cpu'), initMax('cpu')) * 1000),
    memoryBytes: Math.max(sum('memory'), initMax('memory')),
  };
}

/** The first taint of `taints` (filtered) that no toleration tolerates (v1helper `FindMatchingUntoleratedTaint`). */
export function untoleratedTaint(taints: readonly Taint[], tolerations: any[] | undefined, effects: ReadonlyArray<Taint['effect']>): Taint | undefined {
  const tolerates = (toleration: any, taint: Taint): boolean => {
    // core/v1 Toleration.ToleratesTaint: effect (empty = all), key (empty with Exists = all), then the operator.
    if (toleration.effect && toleration.effect !== taint.effect) return false;
    if (toleration.key && toleration.key !== taint.key) return false;
    if (toleration.operator === 'Exists') return true;
    return (toleration.value ?? '') === (taint.value ?? '');
  };
  return taints.find((taint) => effects.includes(taint.effect) && !(tolerations ?? []).some((t) => tolerates(t, taint)));
}

/** Whether the pod's nodeSelector and required node affinity match the node (component-helpers `GetRequiredNodeAffinity`). */
export function matchesNodeAffinity(pod: KObject, node: NodeModel): boolean {
  for (const [key, value] of Object.entries((pod.spec?.nodeSelector ?? {}) as Record<string, string>)) if (node.labels[key] !== value) return false;
  const terms: any[] | undefined = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  if (terms === undefined || terms.length === 0) return true;
  const matches = (requirement: any, value: string | undefined): boolean => {
    const values: string[] = requirement.values ?? [];
    switch (requirement.operator) {
      case 'In':
        return value !== undefined && values.includes(value);
      case 'NotIn':
        return value === undefined || !values.includes(value);
      case 'Exists':
        return value !== undefined;
      case 'DoesNotExist':
        return value === undefined;
      case 'Gt':
      case 'Lt':
        return value !== undefined && /^-?\d+$/.test(value) && (requirement.operator === 'Gt' ? Number(value) > Number(values[0]) : Number(value) < Number(values[0]));
      default:
        return false;
    }
  };
  // Terms are ORed; a term's requirements are ANDed; an empty term matches nothing.
  return terms.some((term) => {
    const expressions: any[] = term?.matchExpressions ?? [];
    const fields: any[] = term?.matchFields ?? [];
    if (expressions.length + fields.length === 0) return false;
    return expressions.every((r) => matches(r, node.labels[r.key])) && fields.every((r) => matches(r, r.key === 'metadata.name' ? node.name : undefined));
  });
}

/** What the pods already on the node use. */
function used(others: readonly KObject[]): { cpuMillis: number; memoryBytes: number; pods: number } {
  return others.reduce(
    (total, pod) => {
      const requests = podRequests(pod);
      return { cpuMillis: total.cpuMillis + requests.cpuMillis, memoryBytes: total.memoryBytes + requests.memoryBytes, pods: total.pods + 1 };
    },
    { cpuMillis: 0, memoryBytes: 0, pods: 0 },
  );
}

/** The resource that does not fit, with the numbers the kubelet's `InsufficientResourceError` prints. */
function insufficient(pod: KObject, node: NodeModel, others: readonly KObject[]): { resource: 'cpu' | 'memory' | 'pods'; requested: number; used: number; capacity: number } | undefined {
  const requests = podRequests(pod);
  const use = used(others);
  if (use.pods + 1 > node.allocatable.pods) return { resource: 'pods', requested: 1, used: use.pods, capacity: node.allocatable.pods };
  if (requests.cpuMillis > 0 && use.cpuMillis + requests.cpuMillis > node.allocatable.cpuMillis) return { resource: 'cpu', requested: requests.cpuMillis, used: use.cpuMillis, capacity: node.allocatable.cpuMillis };
  if (requests.memoryBytes > 0 && use.memoryBytes + requests.memoryBytes > node.allocatable.memoryBytes) return { resource: 'memory', requested: requests.memoryBytes, used: use.memoryBytes, capacity: node.allocatable.memoryBytes };
  return undefined;
}

/**
 * The scheduler's filters on the one node (NodeAffinity, TaintToleration for NoSchedule and
 * NoExecute, NodeResourcesFit); `undefined` when the pod fits, else the FitError message
 * (pkg/scheduler/framework/plugins/{nodeaffinity,tainttoleration,noderesources};
 * pkg/scheduler/framework/types.go `FitError.Error`, with the preemption post-filter's note).
 */
export function unschedulableMessage(pod: KObject, node: NodeModel, others: readonly KObject[]): string | undefined {
  let reason: string | undefined;
  let preemptionHelps = false;
  const taint = untoleratedTaint(node.taints, pod.spec?.tolerations, ['NoSchedule', 'NoExecute']);
  if (!matchesNodeAffinity(pod, node)) reason = "node(s) didn't match Pod's node affinity/selector";
  else if (taint !== undefined) reason = `node(s) had untolerated taint {${taint.key}: ${taint.value ?? ''}}`;
  else {
    const short = insufficient(pod, node, others);
    if (short !== undefined) {
      reason = short.resource === 'pods' ? 'Too many pods' : `Insufficient ${short.resource}`;
      preemptionHelps = true;
    }
  }
  if (reason === undefined) return undefined;
  const preemption = preemptionHelps ? '1 No preemption victims found for incoming pod' : '1 Preemption is not helpful for scheduling';
  return `0/1 nodes are available: 1 ${reason}. preemption: 0/1 nodes are available: ${preemption}.`;
}

/**
 * The kubelet's admission of a pod bound to the node (by the scheduler or by whoever set
 * `spec.nodeName`): `undefined` when admitted, else the reason and message it is rejected
 * with (pkg/kubelet/lifecycle/predicate.go `Admit`, `generalFilter`: node affinity, resources
 * — `OutOfcpu`, `OutOfmemory`, `OutOfpods` —, and NoExecute taints only).
 */
export function admissionFailure(pod: KObject, node: NodeModel, others: readonly KObject[]): { reason: string; message: string } | undefined {
  if (!matchesNodeAffinity(pod, node)) return { reason: 'NodeAffinity', message: "Predicate NodeAffinity failed: node(s) didn't match Pod's node affinity/selector" };
  const short = insufficient(pod, node, others);
  if (short !== undefined) {
    return { reason: `OutOf${short.resource}`, message: `Node didn't have enough resource: ${short.resource}, requested: ${short.requested}, used: ${short.used}, capacity: ${short.capacity}` };
  }
  if (untoleratedTaint(node.taints, pod.spec?.tolerations, ['NoExecute']) !== undefined) {
    return { reason: 'TaintToleration', message: "Predicate TaintToleration failed: node(s) had taints that the pod didn't tolerate" };
  }
  return undefined;
}
