import { errors, StatusError } from '../status.js';

/**
 * Decoding of `application/vnd.kubernetes.protobuf` request bodies. kubectl's typed
 * clients (`kubectl create namespace|configmap|secret|job|deployment|role|rolebinding|…`,
 * `kubectl auth can-i`) send protobuf
 * and do not fall back to JSON, so the server reads the subset of messages those
 * commands write. Field numbers follow k8s.io/api's generated.proto; a field outside
 * this table is refused with 415 rather than silently dropped.
 */

type FieldType = 'string' | 'bytes' | 'bool' | 'int' | 'time' | 'quantity' | 'intOrString' | { message: string };
interface Field {
  name: string;
  type: FieldType;
  repeated?: boolean;
  /** A map<string, value>: entries are messages {key = 1, value = 2}. */
  map?: boolean;
}
type Message = Record<number, Field>;

const s = (name: string): Field => ({ name, type: 'string' });
const n = (name: string): Field => ({ name, type: 'int' });
const b = (name: string): Field => ({ name, type: 'bool' });
const m = (name: string, message: string, repeated = false): Field => ({ name, type: { message }, repeated });
const strMap = (name: string): Field => ({ name, type: 'string', map: true });

const SCHEMA: Record<string, Message> = {
  Unknown: { 1: m('typeMeta', 'TypeMeta'), 2: { name: 'raw', type: 'bytes' }, 3: s('contentEncoding'), 4: s('contentType') },
  TypeMeta: { 1: s('apiVersion'), 2: s('kind') },
  ObjectMeta: {
    1: s('name'),
    2: s('generateName'),
    3: s('namespace'),
    4: s('selfLink'),
    5: s('uid'),
    6: s('resourceVersion'),
    7: n('generation'),
    8: { name: 'creationTimestamp', type: 'time' },
    9: { name: 'deletionTimestamp', type: 'time' },
    10: n('deletionGracePeriodSeconds'),
    11: strMap('labels'),
    12: strMap('annotations'),
    13: m('ownerReferences', 'OwnerReference', true),
    14: { name: 'finalizers', type: 'string', repeated: true },
  },
  OwnerReference: { 1: s('kind'), 3: s('name'), 4: s('uid'), 5: s('apiVersion'), 6: b('controller'), 7: b('blockOwnerDeletion') },
  Namespace: { 1: m('metadata', 'ObjectMeta'), 2: m('spec', 'NamespaceSpec'), 3: m('status', 'Empty') },
  NamespaceSpec: { 1: { name: 'finalizers', type: 'string', repeated: true } },
  ConfigMap: { 1: m('metadata', 'ObjectMeta'), 2: strMap('data'), 3: { name: 'binaryData', type: 'bytes', map: true }, 4: b('immutable') },
  Secret: { 1: m('metadata', 'ObjectMeta'), 2: { name: 'data', type: 'bytes', map: true }, 3: s('type'), 4: strMap('stringData'), 5: b('immutable') },
  Job: { 1: m('metadata', 'ObjectMeta'), 2: m('spec', 'JobSpec'), 3: m('status', 'Empty') },
  JobSpec: {
    1: n('parallelism'),
    2: n('completions'),
    3: n('activeDeadlineSeconds'),
    4: m('selector', 'LabelSelector'),
    5: b('manualSelector'),
    6: m('template', 'PodTemplateSpec'),
    7: n('backoffLimit'),
    8: n('ttlSecondsAfterFinished'),
    9: s('completionMode'),
    10: b('suspend'),
  },
  Deployment: { 1: m('metadata', 'ObjectMeta'), 2: m('spec', 'DeploymentSpec'), 3: m('status', 'Empty') },
  DeploymentSpec: {
    1: n('replicas'),
    2: m('selector', 'LabelSelector'),
    3: m('template', 'PodTemplateSpec'),
    4: m('strategy', 'DeploymentStrategy'),
    5: n('minReadySeconds'),
    6: n('revisionHistoryLimit'),
    7: b('paused'),
    9: n('progressDeadlineSeconds'),
  },
  DeploymentStrategy: { 1: s('type'), 2: m('rollingUpdate', 'RollingUpdateDeployment') },
  RollingUpdateDeployment: { 1: { name: 'maxUnavailable', type: 'intOrString' }, 2: { name: 'maxSurge', type: 'intOrString' } },
  LabelSelector: { 1: strMap('matchLabels'), 2: m('matchExpressions', 'LabelSelectorRequirement', true) },
  LabelSelectorRequirement: { 1: s('key'), 2: s('operator'), 3: { name: 'values', type: 'string', repeated: true } },
  PodTemplateSpec: { 1: m('metadata', 'ObjectMeta'), 2: m('spec', 'PodSpec') },
  PodSpec: {
    2: m('containers', 'Container', true),
    3: s('restartPolicy'),
    4: n('terminationGracePeriodSeconds'),
    5: n('activeDeadlineSeconds'),
    6: s('dnsPolicy'),
    7: strMap('nodeSelector'),
    8: s('serviceAccountName'),
    9: s('serviceAccount'),
    14: m('securityContext', 'Empty'),
    19: s('schedulerName'),
    20: m('initContainers', 'Container', true),
    25: n('priority'),
  },
  Container: {
    1: s('name'),
    2: s('image'),
    3: { name: 'command', type: 'string', repeated: true },
    4: { name: 'args', type: 'string', repeated: true },
    5: s('workingDir'),
    6: m('ports', 'ContainerPort', true),
    7: m('env', 'EnvVar', true),
    8: m('resources', 'ResourceRequirements'),
    13: s('terminationMessagePath'),
    14: s('imagePullPolicy'),
    16: b('stdin'),
    17: b('stdinOnce'),
    18: b('tty'),
    20: s('terminationMessagePolicy'),
  },
  ContainerPort: { 1: s('name'), 2: n('hostPort'), 3: n('containerPort'), 4: s('protocol'), 5: s('hostIP') },
  EnvVar: { 1: s('name'), 2: s('value') },
  ResourceRequirements: { 1: { name: 'limits', type: 'quantity', map: true }, 2: { name: 'requests', type: 'quantity', map: true } },
  // rbac.authorization.k8s.io/v1 (kubectl create role|clusterrole|rolebinding|clusterrolebinding).
  Role: { 1: m('metadata', 'ObjectMeta'), 2: m('rules', 'PolicyRule', true) },
  ClusterRole: { 1: m('metadata', 'ObjectMeta'), 2: m('rules', 'PolicyRule', true), 3: m('aggregationRule', 'AggregationRule') },
  AggregationRule: { 1: m('clusterRoleSelectors', 'LabelSelector', true) },
  PolicyRule: {
    1: { name: 'verbs', type: 'string', repeated: true },
    2: { name: 'apiGroups', type: 'string', repeated: true },
    3: { name: 'resources', type: 'string', repeated: true },
    4: { name: 'resourceNames', type: 'string', repeated: true },
    5: { name: 'nonResourceURLs', type: 'string', repeated: true },
  },
  RoleBinding: { 1: m('metadata', 'ObjectMeta'), 2: m('subjects', 'Subject', true), 3: m('roleRef', 'RoleRef') },
  ClusterRoleBinding: { 1: m('metadata', 'ObjectMeta'), 2: m('subjects', 'Subject', true), 3: m('roleRef', 'RoleRef') },
  Subject: { 1: s('kind'), 2: s('apiGroup'), 3: s('name'), 4: s('namespace') },
  RoleRef: { 1: s('apiGroup'), 2: s('kind'), 3: s('name') },
  // kubectl create quota.
  ResourceQuota: { 1: m('metadata', 'ObjectMeta'), 2: m('spec', 'ResourceQuotaSpec'), 3: m('status', 'Empty') },
  ResourceQuotaSpec: { 1: { name: 'hard', type: 'quantity', map: true }, 2: { name: 'scopes', type: 'string', repeated: true } },
  // authorization.k8s.io/v1 (kubectl auth can-i).
  SelfSubjectAccessReview: { 1: m('metadata', 'ObjectMeta'), 2: m('spec', 'SelfSubjectAccessReviewSpec'), 3: m('status', 'Empty') },
  SelfSubjectAccessReviewSpec: { 1: m('resourceAttributes', 'ResourceAttributes'), 2: m('nonResourceAttributes', 'NonResourceAttributes') },
  ResourceAttributes: { 1: s('namespace'), 2: s('verb'), 3: s('group'), 4: s('version'), 5: s('resource'), 6: s('subresource'), 7: s('name') },
  NonResourceAttributes: { 1: s('path'), 2: s('verb') },
  SelfSubjectRulesReview: { 1: m('metadata', 'ObjectMeta'), 2: m('spec', 'SelfSubjectRulesReviewSpec'), 3: m('status', 'Empty') },
  SelfSubjectRulesReviewSpec: { 1: s('namespace') },
  SelfSubjectReview: { 1: m('metadata', 'ObjectMeta'), 2: m('status', 'Empty') },
  /** Messages the commands only ever send empty. */
  Empty: {},
};

/** The message decoding each kind's raw bytes. */
const KINDS: Record<string, string> = Object.fromEntries(
  ['Namespace', 'ConfigMap', 'Secret', 'Job', 'Deployment', 'ResourceQuota', 'Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding', 'SelfSubjectAccessReview', 'SelfSubjectRulesReview', 'SelfSubjectReview'].map((kind) => [kind, kind]),
);

const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]); // "k8s\0"

function unsupported(what: string): StatusError {
  return new StatusError({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: `protobuf ${what} is not supported by this server; send application/json`,
    reason: 'UnsupportedMediaType',
    code: 415,
  });
}

class Reader {
  pos = 0;
  constructor(readonly buf: Buffer) {}
  get done(): boolean {
    return this.pos >= this.buf.length;
  }
  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (this.pos >= this.buf.length) throw errors.badRequest('truncated protobuf varint');
      const byte = this.buf[this.pos++]!;
      result |= BigInt(byte & 0x7f) << shift;
      if (!(byte & 0x80)) return result;
      shift += 7n;
    }
  }
  bytes(): Buffer {
    const length = Number(this.varint());
    if (this.pos + length > this.buf.length) throw errors.badRequest('truncated protobuf field');
    const out = this.buf.subarray(this.pos, this.pos + length);
    this.pos += length;
    return out;
  }
  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 2) this.bytes();
    else if (wire === 5) this.pos += 4;
    else throw errors.badRequest(`unsupported protobuf wire type ${wire}`);
  }
}

function toInt(value: bigint): number {
  return Number(BigInt.asIntN(64, value));
}

function decodeScalar(type: FieldType, wire: number, reader: Reader, path: string): unknown {
  if (typeof type === 'object') return decodeMessage(type.message, reader.bytes(), path);
  switch (type) {
    case 'string':
      return reader.bytes().toString('utf8');
    case 'bytes':
      return reader.bytes().toString('base64');
    case 'bool':
      return reader.varint() !== 0n;
    case 'int':
      if (wire !== 0) throw unsupported(`wire type at ${path}`);
      return toInt(reader.varint());
    case 'quantity': {
      const inner = new Reader(reader.bytes());
      let text = '';
      while (!inner.done) {
        const tag = toInt(inner.varint());
        if (tag >> 3 === 1) text = inner.bytes().toString('utf8');
        else inner.skip(tag & 7);
      }
      return text;
    }
    case 'intOrString': {
      const inner = new Reader(reader.bytes());
      const parts: Record<number, unknown> = {};
      while (!inner.done) {
        const tag = toInt(inner.varint());
        const field = tag >> 3;
        parts[field] = field === 3 ? inner.bytes().toString('utf8') : toInt(inner.varint());
      }
      return parts[1] === 1 ? (parts[3] ?? '') : (parts[2] ?? 0);
    }
    case 'time': {
      const inner = new Reader(reader.bytes());
      let seconds = 0;
      while (!inner.done) {
        const tag = toInt(inner.varint());
        if (tag >> 3 === 1) seconds = toInt(inner.varint());
        else inner.skip(tag & 7);
      }
      return seconds === 0 ? undefined : new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    }
  }
}

/** Consumes a field value and tells whether it was empty (zero varint, empty bytes, empty message of empties). */
function isEmptyValue(reader: Reader, wire: number): boolean {
  if (wire === 0) return reader.varint() === 0n;
  if (wire !== 2) return false;
  const inner = new Reader(reader.bytes());
  while (!inner.done) {
    const tag = toInt(inner.varint());
    if (!isEmptyValue(inner, tag & 7)) return false;
  }
  return true;
}

function decodeMessage(name: string, buf: Buffer, path: string): Record<string, unknown> {
  const schema = SCHEMA[name]!;
  const out: Record<string, unknown> = {};
  const reader = new Reader(buf);
  while (!reader.done) {
    const tag = toInt(reader.varint());
    const number = tag >> 3;
    const wire = tag & 7;
    const field = schema[number];
    if (!field) {
      // gogo-protobuf writes unset non-pointer fields as empty values: those carry nothing.
      if (isEmptyValue(reader, wire)) continue;
      throw unsupported(`field ${number} of ${name} (at ${path || 'the object'})`);
    }
    const fieldPath = path ? `${path}.${field.name}` : field.name;
    if (field.map) {
      const entry = new Reader(reader.bytes());
      let key = '';
      let value: unknown = field.type === 'string' || field.type === 'bytes' ? '' : undefined;
      while (!entry.done) {
        const entryTag = toInt(entry.varint());
        if (entryTag >> 3 === 1) key = entry.bytes().toString('utf8');
        else value = decodeScalar(field.type, entryTag & 7, entry, `${fieldPath}[${key}]`);
      }
      out[field.name] = { ...((out[field.name] as object) ?? {}), [key]: value };
    } else if (field.repeated) {
      // Packed repeated scalars are not used by these messages' string/message lists.
      ((out[field.name] ??= []) as unknown[]).push(decodeScalar(field.type, wire, reader, fieldPath));
    } else {
      out[field.name] = decodeScalar(field.type, wire, reader, fieldPath);
    }
  }
  // gogo-protobuf writes non-pointer fields even when empty; JSON would omit them.
  for (const [key, value] of Object.entries(out)) if (value === '' || value === false || value === undefined) delete out[key];
  if (name === 'ObjectMeta') delete out.generation;
  return out;
}

/** True for a protobuf request Content-Type. */
export function isProtobuf(contentType: string | undefined): boolean {
  return (contentType ?? '').split(';')[0]!.trim() === 'application/vnd.kubernetes.protobuf';
}

/** Decodes a protobuf request body (the `k8s\0` envelope) into the JSON object it stands for. */
export function decodeProtobufObject(body: Buffer): Record<string, unknown> {
  if (body.length < 4 || !body.subarray(0, 4).equals(MAGIC)) throw errors.badRequest('protobuf body without the k8s envelope');
  const unknown = decodeMessage('Unknown', body.subarray(4), '') as { typeMeta?: { apiVersion?: string; kind?: string }; raw?: string };
  const kind = unknown.typeMeta?.kind ?? '';
  const message = KINDS[kind];
  if (!message) throw unsupported(`kind ${kind || '(none)'}`);
  const object = decodeMessage(message, Buffer.from(unknown.raw ?? '', 'base64'), '');
  return { apiVersion: unknown.typeMeta?.apiVersion, kind, ...object };
}
