import type { KObject } from '../api.js';
import type { ResourceInfo } from '../resources.js';

/**
 * meta.k8s.io/v1 Tables for kubectl's human output, with the columns and cell
 * values the real printers produce for the kinds the server stores.
 */

interface Column {
  name: string;
  type: string;
  format?: string;
  priority?: number;
  description?: string;
}

/** True when the Accept header asks for a Table. */
export function wantsTable(accept: string | undefined): boolean {
  return !!accept && /as=Table/.test(accept) && /g=meta\.k8s\.io/.test(accept);
}

/** Human age like kubectl: 45s, 3m12s, 5h, 2d. */
export function age(timestamp: string | undefined, now = Date.now()): string {
  if (!timestamp) return '<unknown>';
  const s = Math.max(0, Math.floor((now - Date.parse(timestamp)) / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return `${m}m${s % 60 ? `${s % 60}s` : ''}`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h`;
  return `${Math.floor(h / 24)}d`;
}

const NAME: Column = { name: 'Name', type: 'string', format: 'name', description: 'Name must be unique within a namespace.' };
const AGE: Column = { name: 'Age', type: 'string', description: 'CreationTimestamp is a timestamp representing the server time when this object was created.' };

/** The pod Status column as kubectl prints it. */
export function podStatusReason(pod: KObject): string {
  let reason: string = pod.status?.reason ?? pod.status?.phase ?? 'Pending';
  const inits: any[] = pod.status?.initContainerStatuses ?? [];
  inits.forEach((c, i) => {
    if (reason !== (pod.status?.reason ?? pod.status?.phase ?? 'Pending')) return;
    const t = c.state?.terminated;
    if (t && t.exitCode === 0) return;
    if (t) reason = `Init:${t.reason || (t.signal ? `Signal:${t.signal}` : `ExitCode:${t.exitCode}`)}`;
    else if (c.state?.waiting?.reason && c.state.waiting.reason !== 'PodInitializing') reason = `Init:${c.state.waiting.reason}`;
    else reason = `Init:${i}/${(pod.spec?.initContainers ?? []).length}`;
  });
  const initializing = reason.startsWith('Init:');
  if (!initializing) {
    let running = false;
    for (const c of [...(pod.status?.containerStatuses ?? [])].reverse()) {
      const s = c.state ?? {};
      if (s.waiting?.reason) reason = s.waiting.reason;
      else if (s.terminated?.reason) reason = s.terminated.reason;
      else if (s.terminated) reason = s.terminated.signal ? `Signal:${s.terminated.signal}` : `ExitCode:${s.terminated.exitCode}`;
      else if (s.running && c.ready) running = true;
    }
    if (reason === 'Completed' && running) reason = 'Running';
  }
  if (pod.metadata.deletionTimestamp) reason = pod.status?.reason === 'NodeLost' ? 'Unknown' : 'Terminating';
  return reason;
}

function podRow(pod: KObject): unknown[] {
  const statuses: any[] = pod.status?.containerStatuses ?? [];
  const total = (pod.spec?.containers ?? []).length;
  const ready = statuses.filter((c) => c.ready).length;
  const restarts = statuses.reduce((n, c) => n + (c.restartCount ?? 0), 0);
  const gates = (pod.spec?.readinessGates ?? []).length;
  return [
    pod.metadata.name,
    `${ready}/${total}`,
    podStatusReason(pod),
    restarts,
    age(pod.metadata.creationTimestamp),
    pod.status?.podIP ?? '<none>',
    pod.spec?.nodeName ?? '<none>',
    pod.status?.nominatedNodeName ?? '<none>',
    gates ? `${gates}` : '<none>',
  ];
}

function duration(start?: string, end?: string): string {
  if (!start) return '';
  return age(start, end ? Date.parse(end) : Date.now());
}

function jobStatus(job: KObject): string {
  const conditions: any[] = job.status?.conditions ?? [];
  const has = (type: string) => conditions.some((c) => c.type === type && c.status === 'True');
  if (has('Complete')) return 'Complete';
  if (has('Failed')) return 'Failed';
  if (job.metadata.deletionTimestamp) return 'Terminating';
  if (has('SuccessCriteriaMet')) return 'SuccessCriteriaMet';
  if (has('FailureTarget')) return 'FailureTarget';
  if (job.spec?.suspend) return 'Suspended';
  return 'Running';
}

/** rbac printers (pkg/printers/internalversion printRole, printRoleBinding): the role a binding grants. */
const bindingRow = (b: any) => [b.metadata.name, `${b.roleRef?.kind ?? ''}/${b.roleRef?.name ?? ''}`, age(b.metadata.creationTimestamp)];
const CREATED_AT: Column = { name: 'Created At', type: 'string', format: 'date' };

/** printResourceQuota: `used/hard` per resource, limits.* apart, resources sorted. */
function quotaRow(q: any): unknown[] {
  const hard: Record<string, string> = q.status?.hard ?? {};
  const used: Record<string, string> = q.status?.used ?? {};
  const request: string[] = [];
  const limit: string[] = [];
  for (const r of Object.keys(hard).sort()) (r.split('.')[0] === 'limits' && r.includes('.') ? limit : request).push(`${r}: ${used[r] ?? '0'}/${hard[r]}`);
  return [q.metadata.name, age(q.metadata.creationTimestamp), request.join(', '), limit.join(', ')];
}

interface TableSpec {
  columns: Column[];
  row(object: KObject): unknown[];
}

const SPECS: Record<string, TableSpec> = {
  pods: {
    columns: [
      NAME,
      { name: 'Ready', type: 'string', description: 'The aggregate readiness state of this pod for accepting traffic.' },
      { name: 'Status', type: 'string', description: 'The aggregate status of the containers in this pod.' },
      { name: 'Restarts', type: 'string', description: 'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.' },
      AGE,
      { name: 'IP', type: 'string', priority: 1, description: 'IP address allocated to the pod.' },
      { name: 'Node', type: 'string', priority: 1, description: 'Name of the Node this pod is scheduled on.' },
      { name: 'Nominated Node', type: 'string', priority: 1, description: 'Name of the Node this pod is nominated to.' },
      { name: 'Readiness Gates', type: 'string', priority: 1, description: 'Readiness gates of the pod.' },
    ],
    row: podRow,
  },
  jobs: {
    columns: [NAME, { name: 'Status', type: 'string' }, { name: 'Completions', type: 'string' }, { name: 'Duration', type: 'string' }, AGE, { name: 'Containers', type: 'string', priority: 1 }, { name: 'Images', type: 'string', priority: 1 }, { name: 'Selector', type: 'string', priority: 1 }],
    row: (j) => [
      j.metadata.name,
      jobStatus(j),
      `${j.status?.succeeded ?? 0}/${j.spec?.completions ?? 1}`,
      duration(j.status?.startTime, j.status?.completionTime),
      age(j.metadata.creationTimestamp),
      (j.spec?.template?.spec?.containers ?? []).map((c: any) => c.name).join(','),
      (j.spec?.template?.spec?.containers ?? []).map((c: any) => c.image).join(','),
      Object.entries(j.spec?.selector?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`).join(','),
    ],
  },
  persistentvolumeclaims: {
    columns: [NAME, { name: 'Status', type: 'string' }, { name: 'Volume', type: 'string' }, { name: 'Capacity', type: 'string' }, { name: 'Access Modes', type: 'string' }, { name: 'StorageClass', type: 'string' }, { name: 'VolumeAttributesClass', type: 'string' }, AGE, { name: 'VolumeMode', type: 'string', priority: 1 }],
    row: (p) => [
      p.metadata.name,
      p.metadata.deletionTimestamp ? 'Terminating' : (p.status?.phase ?? 'Pending'),
      p.spec?.volumeName ?? '',
      p.status?.capacity?.storage ?? '',
      (p.status?.accessModes ?? []).map((m: string) => ({ ReadWriteOnce: 'RWO', ReadOnlyMany: 'ROX', ReadWriteMany: 'RWX', ReadWriteOncePod: 'RWOP' })[m] ?? m).join(','),
      p.spec?.storageClassName ?? '',
      p.spec?.volumeAttributesClassName ?? '<unset>',
      age(p.metadata.creationTimestamp),
      p.spec?.volumeMode ?? 'Filesystem',
    ],
  },
  namespaces: {
    columns: [NAME, { name: 'Status', type: 'string' }, AGE],
    row: (n) => [n.metadata.name, n.status?.phase ?? 'Active', age(n.metadata.creationTimestamp)],
  },
  deployments: {
    columns: [NAME, { name: 'Ready', type: 'string' }, { name: 'Up-to-date', type: 'string' }, { name: 'Available', type: 'string' }, AGE],
    row: (d) => [d.metadata.name, `${d.status?.readyReplicas ?? 0}/${d.spec?.replicas ?? 1}`, d.status?.updatedReplicas ?? 0, d.status?.availableReplicas ?? 0, age(d.metadata.creationTimestamp)],
  },
  events: {
    columns: [{ name: 'Last Seen', type: 'string' }, { name: 'Type', type: 'string' }, { name: 'Reason', type: 'string' }, { name: 'Object', type: 'string' }, { name: 'Message', type: 'string' }],
    row: (e: any) => [age(e.lastTimestamp ?? e.eventTime ?? e.metadata.creationTimestamp), e.type ?? '', e.reason ?? '', `${String(e.involvedObject?.kind ?? '').toLowerCase()}/${e.involvedObject?.name ?? ''}`, e.message ?? ''],
  },
  secrets: {
    columns: [NAME, { name: 'Type', type: 'string' }, { name: 'Data', type: 'string' }, AGE],
    row: (s: any) => [s.metadata.name, s.type ?? 'Opaque', Object.keys(s.data ?? {}).length + Object.keys(s.stringData ?? {}).length, age(s.metadata.creationTimestamp)],
  },
  storageclasses: {
    columns: [NAME, { name: 'Provisioner', type: 'string' }, { name: 'ReclaimPolicy', type: 'string' }, { name: 'VolumeBindingMode', type: 'string' }, { name: 'AllowVolumeExpansion', type: 'string' }, AGE],
    row: (c: any) => [
      c.metadata.annotations?.['storageclass.kubernetes.io/is-default-class'] === 'true' ? `${c.metadata.name} (default)` : c.metadata.name,
      c.provisioner ?? '',
      c.reclaimPolicy ?? 'Delete',
      c.volumeBindingMode ?? 'Immediate',
      String(c.allowVolumeExpansion ?? false),
      age(c.metadata.creationTimestamp),
    ],
  },
  resourcequotas: { columns: [NAME, AGE, { name: 'Request', type: 'string' }, { name: 'Limit', type: 'string' }], row: quotaRow },
  roles: { columns: [NAME, CREATED_AT], row: (r) => [r.metadata.name, r.metadata.creationTimestamp] },
  clusterroles: { columns: [NAME, CREATED_AT], row: (r) => [r.metadata.name, r.metadata.creationTimestamp] },
  rolebindings: { columns: [NAME, { name: 'Role', type: 'string' }, AGE], row: bindingRow },
  clusterrolebindings: { columns: [NAME, { name: 'Role', type: 'string' }, AGE], row: bindingRow },
  // pkg/printers/internalversion/printers.go: leaseColumnDefinitions, printLease.
  leases: {
    columns: [NAME, { name: 'Holder', type: 'string', description: 'holderIdentity contains the identity of the holder of a current lease. If Coordinated Leader Election is used, the holder identity must be equal to the elected LeaseCandidate.metadata.name field.' }, AGE],
    row: (l: any) => [l.metadata.name, l.spec?.holderIdentity ?? '', age(l.metadata.creationTimestamp)],
  },
  configmaps: {
    columns: [NAME, { name: 'Data', type: 'string' }, AGE],
    row: (c: any) => [c.metadata.name, Object.keys(c.data ?? {}).length + Object.keys(c.binaryData ?? {}).length, age(c.metadata.creationTimestamp)],
  },
};

const DEFAULT_SPEC: TableSpec = { columns: [NAME, AGE], row: (o) => [o.metadata.name, age(o.metadata.creationTimestamp)] };

/** Builds a Table; `includeObject` is `None`, `Metadata` (default) or `Object`. */
export function toTable(info: ResourceInfo, objects: KObject[], resourceVersion: string, includeObject: string | null): object {
  const spec = SPECS[info.plural] ?? DEFAULT_SPEC;
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { resourceVersion },
    columnDefinitions: spec.columns.map((c) => ({ name: c.name, type: c.type, format: c.format ?? '', description: c.description ?? '', priority: c.priority ?? 0 })),
    rows: objects.map((object) => ({
      cells: spec.row(object),
      object:
        includeObject === 'Object'
          ? object
          : includeObject === 'None'
            ? undefined
            : { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: object.metadata },
    })),
  };
}
