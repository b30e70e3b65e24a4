import type { KObject, StoreApi } from '../../api.js';

/** A container cannot be configured (reason CreateContainerConfigError). */
export class ContainerConfigError extends Error {
  override name = 'ContainerConfigError';
}

/** The decoded key/value data of a secret (base64 `data`) or configMap (`data`, `binaryData`). */
export function objectData(kind: 'secret' | 'configmap', object: KObject): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  const data = (object as any).data ?? {};
  for (const [key, value] of Object.entries<string>(data)) out[key] = kind === 'secret' ? Buffer.from(value, 'base64') : Buffer.from(value);
  for (const [key, value] of Object.entries<string>((object as any).binaryData ?? {})) out[key] = Buffer.from(value, 'base64');
  if (kind === 'secret') for (const [key, value] of Object.entries<string>((object as any).stringData ?? {})) out[key] = Buffer.from(value);
  return out;
}

function lookup(store: StoreApi, pod: KObject, kind: 'secret' | 'configmap', name: string, key: string | undefined, optional: boolean): string | undefined {
  const object = store.get(kind === 'secret' ? 'secrets' : 'configmaps', pod.metadata.namespace, name);
  if (!object) {
    if (optional) return undefined;
    throw new ContainerConfigError(`${kind} "${name}" not found`);
  }
  if (key === undefined) return '';
  const value = objectData(kind, object)[key];
  if (value === undefined) {
    if (optional) return undefined;
    throw new ContainerConfigError(`couldn't find key ${key} in ${kind === 'secret' ? 'Secret' : 'ConfigMap'} ${pod.metadata.namespace}/${name}`);
  }
  return value.toString();
}

function fieldValue(pod: KObject, path: string, podIP: string): string {
  const labelMatch = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(path);
  if (labelMatch) return (pod.metadata as any)[labelMatch[1]!]?.[labelMatch[2]!] ?? '';
  switch (path) {
    case 'metadata.name': return pod.metadata.name;
    case 'metadata.namespace': return pod.metadata.namespace ?? 'default';
    case 'metadata.uid': return pod.metadata.uid;
    case 'spec.nodeName': return pod.spec.nodeName ?? '';
    case 'spec.serviceAccountName': return pod.spec.serviceAccountName ?? '';
    case 'status.podIP': return podIP;
    case 'status.hostIP': return '10.0.0.1';
    default: throw new ContainerConfigError(`unsupported fieldRef fieldPath ${path}`);
  }
}

/** `$(VAR)` references expanded as Kubernetes does; `$$(VAR)` escapes; unknown references stay. */
export function expand(text: string, vars: Map<string, string>): string {
  return text.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (match, name: string | undefined) => {
    if (match === '$$') return '$';
    return name !== undefined && vars.has(name) ? vars.get(name)! : match;
  });
}

/** The container's environment (envFrom first, then env in order), as Kubernetes resolves it. */
export function resolveEnv(store: StoreApi, pod: KObject, container: any, podIP: string): Map<string, string> {
  const vars = new Map<string, string>();
  for (const source of container.envFrom ?? []) {
    const kind = source.secretRef ? 'secret' : 'configmap';
    const ref = source.secretRef ?? source.configMapRef;
    if (!ref) continue;
    const object = store.get(kind === 'secret' ? 'secrets' : 'configmaps', pod.metadata.namespace, ref.name);
    if (!object) {
      if (ref.optional) continue;
      throw new ContainerConfigError(`${kind} "${ref.name}" not found`);
    }
    for (const [key, value] of Object.entries(objectData(kind, object))) vars.set(`${source.prefix ?? ''}${key}`, value.toString());
  }
  for (const entry of container.env ?? []) {
    const from = entry.valueFrom;
    let value: string | undefined;
    if (!from) value = expand(entry.value ?? '', vars);
    else if (from.secretKeyRef) value = lookup(store, pod, 'secret', from.secretKeyRef.name, from.secretKeyRef.key, Boolean(from.secretKeyRef.optional));
    else if (from.configMapKeyRef) value = lookup(store, pod, 'configmap', from.configMapKeyRef.name, from.configMapKeyRef.key, Boolean(from.configMapKeyRef.optional));
    else if (from.fieldRef) value = fieldValue(pod, from.fieldRef.fieldPath, podIP);
    else if (from.resourceFieldRef) value = '0';
    if (value !== undefined) vars.set(entry.name, value);
  }
  return vars;
}
