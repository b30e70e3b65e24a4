import type { KObject } from '../api.js';
import type { StatusCause } from '../status.js';

/**
 * Pod Security admission as the built-in PodSecurity plugin applies it from namespace
 * labels (k8s.io/pod-security-admission: api/helpers.go `PolicyToEvaluate`,
 * admission/admission.go `EvaluatePod`, policy/check_*.go). Checks run baseline IDs
 * first, then restricted ones, each sorted (policy/registry.go `populate`); a restricted
 * check replaces the baseline one it overrides.
 */

export type Level = 'privileged' | 'baseline' | 'restricted';

interface CheckResult {
  reason: string;
  detail: string;
}

type Check = (meta: any, spec: any) => CheckResult | undefined;

const joinQuote = (items: string[]) => (items.length ? `"${items.join('", "')}"` : '');
const plural = (one: string, many: string, n: number) => (n === 1 ? one : many);
const containersOf = (spec: any): any[] => [...(spec.initContainers ?? []), ...(spec.containers ?? []), ...(spec.ephemeralContainers ?? [])];
const sorted = (set: Set<string>) => [...set].sort();
const named = (names: string[]) => `${plural('container', 'containers', names.length)} ${joinQuote(names)}`;

const hostNamespaces: Check = (_meta, spec) => {
  const used = [spec.hostNetwork && 'hostNetwork=true', spec.hostPID && 'hostPID=true', spec.hostIPC && 'hostIPC=true'].filter(Boolean) as string[];
  return used.length ? { reason: 'host namespaces', detail: used.join(', ') } : undefined;
};

const privileged: Check = (_meta, spec) => {
  const bad = containersOf(spec).filter((c) => c.securityContext?.privileged === true).map((c) => c.name);
  return bad.length ? { reason: 'privileged', detail: `${named(bad)} must not set securityContext.privileged=true` } : undefined;
};

const BASELINE_CAPABILITIES = new Set(['AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD', 'NET_BIND_SERVICE', 'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT']);

const capabilitiesBaseline: Check = (_meta, spec) => {
  const bad: string[] = [];
  const added = new Set<string>();
  for (const c of containersOf(spec)) {
    const extra = (c.securityContext?.capabilities?.add ?? []).filter((cap: string) => !BASELINE_CAPABILITIES.has(cap));
    for (const cap of extra) added.add(cap);
    if (extra.length) bad.push(c.name);
  }
  return bad.length ? { reason: 'non-default capabilities', detail: `${named(bad)} must not include ${joinQuote(sorted(added))} in securityContext.capabilities.add` } : undefined;
};

const hostPathVolumes: Check = (_meta, spec) => {
  const bad = (spec.volumes ?? []).filter((v: any) => v.hostPath).map((v: any) => v.name);
  return bad.length ? { reason: 'hostPath volumes', detail: `${plural('volume', 'volumes', bad.length)} ${joinQuote(bad)}` } : undefined;
};

const hostPorts: Check = (_meta, spec) => {
  const bad: string[] = [];
  const ports = new Set<string>();
  for (const c of containersOf(spec)) {
    const used = (c.ports ?? []).filter((p: any) => p.hostPort).map((p: any) => String(p.hostPort));
    for (const p of used) ports.add(p);
    if (used.length) bad.push(c.name);
  }
  const list = sorted(ports);
  return bad.length ? { reason: 'hostPort', detail: `${named(bad)} ${plural('uses', 'use', bad.length)} ${plural('hostPort', 'hostPorts', list.length)} ${list.join(', ')}` } : undefined;
};

const procMount: Check = (_meta, spec) => {
  const bad: string[] = [];
  const types = new Set<string>();
  for (const c of containersOf(spec)) {
    const type = c.securityContext?.procMount;
    if (type !== undefined && type !== 'Default') bad.push(c.name), types.add(type);
  }
  return bad.length ? { reason: 'procMount', detail: `${named(bad)} must not set securityContext.procMount to ${joinQuote(sorted(types))}` } : undefined;
};

const validSeccomp = (type: string) => type === 'RuntimeDefault' || type === 'Localhost';

/** seccompProfile_baseline (1.19) and _restricted (1.19): an explicit Unconfined is refused; restricted also needs one set. */
function seccomp(requireSet: boolean): Check {
  return (_meta, spec) => {
    const setters: string[] = [];
    const values = new Set<string>();
    const podType = spec.securityContext?.seccompProfile?.type;
    if (podType !== undefined && !validSeccomp(podType)) setters.push('pod'), values.add(podType);
    const podSet = podType !== undefined && validSeccomp(podType);
    const explicit: string[] = [];
    const implicit: string[] = [];
    for (const c of containersOf(spec)) {
      const type = c.securityContext?.seccompProfile?.type;
      if (type !== undefined) {
        if (!validSeccomp(type)) explicit.push(c.name), values.add(type);
      } else if (!podSet) implicit.push(c.name);
    }
    if (explicit.length) setters.push(named(explicit));
    if (setters.length) return { reason: 'seccompProfile', detail: `${setters.join(' and ')} must not set securityContext.seccompProfile.type to ${joinQuote(sorted(values))}` };
    if (requireSet && implicit.length) return { reason: 'seccompProfile', detail: `pod or ${named(implicit)} must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost"` };
    return undefined;
  };
}

const SAFE_SYSCTLS = new Set([
  'kernel.shm_rmid_forced',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range',
  'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.ip_local_reserved_ports',
  'net.ipv4.tcp_keepalive_time',
  'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes',
  'net.ipv4.tcp_rmem',
  'net.ipv4.tcp_wmem',
]);

const sysctls: Check = (_meta, spec) => {
  const bad = (spec.securityContext?.sysctls ?? []).map((s: any) => s.name).filter((name: string) => !SAFE_SYSCTLS.has(name));
  return bad.length ? { reason: 'forbidden sysctls', detail: bad.join(', ') } : undefined;
};

const allowPrivilegeEscalation: Check = (_meta, spec) => {
  const bad = containersOf(spec).filter((c) => c.securityContext?.allowPrivilegeEscalation !== false).map((c) => c.name);
  return bad.length ? { reason: 'allowPrivilegeEscalation != false', detail: `${named(bad)} must set securityContext.allowPrivilegeEscalation=false` } : undefined;
};

const capabilitiesRestricted: Check = (_meta, spec) => {
  const missingDrop: string[] = [];
  const adding: string[] = [];
  const added = new Set<string>();
  for (const c of containersOf(spec)) {
    const caps = c.securityContext?.capabilities;
    if (!caps) {
      missingDrop.push(c.name);
      continue;
    }
    if (!(caps.drop ?? []).includes('ALL')) missingDrop.push(c.name);
    const extra = (caps.add ?? []).filter((cap: string) => cap !== 'NET_BIND_SERVICE');
    for (const cap of extra) added.add(cap);
    if (extra.length) adding.push(c.name);
  }
  const details: string[] = [];
  if (missingDrop.length) details.push(`${named(missingDrop)} must set securityContext.capabilities.drop=["ALL"]`);
  if (adding.length) details.push(`${named(adding)} must not include ${joinQuote(sorted(added))} in securityContext.capabilities.add`);
  return details.length ? { reason: 'unrestricted capabilities', detail: details.join('; ') } : undefined;
};

const ALLOWED_VOLUME_SOURCES = ['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'image', 'persistentVolumeClaim', 'projected', 'secret'];

const restrictedVolumes: Check = (_meta, spec) => {
  const bad: string[] = [];
  const types = new Set<string>();
  for (const volume of spec.volumes ?? []) {
    if (ALLOWED_VOLUME_SOURCES.some((source) => volume[source] !== undefined)) continue;
    bad.push(volume.name);
    types.add(Object.keys(volume).find((key) => key !== 'name') ?? 'unknown');
  }
  const list = sorted(types);
  return bad.length
    ? { reason: 'restricted volume types', detail: `${plural('volume', 'volumes', bad.length)} ${joinQuote(bad)} ${plural('uses', 'use', bad.length)} ${plural('restricted volume type', 'restricted volume types', list.length)} ${joinQuote(list)}` }
    : undefined;
};

const runAsNonRoot: Check = (_meta, spec) => {
  const setters: string[] = [];
  const podValue = spec.securityContext?.runAsNonRoot;
  if (podValue === false) setters.push('pod');
  const explicit: string[] = [];
  const implicit: string[] = [];
  for (const c of containersOf(spec)) {
    const value = c.securityContext?.runAsNonRoot;
    if (value !== undefined) {
      if (value === false) explicit.push(c.name);
    } else if (podValue !== true) implicit.push(c.name);
  }
  if (explicit.length) setters.push(named(explicit));
  if (setters.length) return { reason: 'runAsNonRoot != true', detail: `${setters.join(' and ')} must not set securityContext.runAsNonRoot=false` };
  if (implicit.length) return { reason: 'runAsNonRoot != true', detail: `pod or ${named(implicit)} must set securityContext.runAsNonRoot=true` };
  return undefined;
};

const runAsUser: Check = (_meta, spec) => {
  const setters: string[] = [];
  if (spec.securityContext?.runAsUser === 0) setters.push('pod');
  const bad = containersOf(spec).filter((c) => c.securityContext?.runAsUser === 0).map((c) => c.name);
  if (bad.length) setters.push(named(bad));
  return setters.length ? { reason: 'runAsUser=0', detail: `${setters.join(' and ')} must not set runAsUser=0` } : undefined;
};

/** Checks by ID in evaluation order; `overrides` names the baseline check a restricted one replaces. */
const BASELINE: Array<[string, Check]> = [
  ['capabilities_baseline', capabilitiesBaseline],
  ['hostNamespaces', hostNamespaces],
  ['hostPathVolumes', hostPathVolumes],
  ['hostPorts', hostPorts],
  ['privileged', privileged],
  ['procMount', procMount],
  ['seccompProfile_baseline', seccomp(false)],
  ['sysctls', sysctls],
];
const RESTRICTED: Array<[string, Check, string?]> = [
  ['allowPrivilegeEscalation', allowPrivilegeEscalation],
  ['capabilities_restricted', capabilitiesRestricted, 'capabilities_baseline'],
  ['restrictedVolumes', restrictedVolumes, 'hostPathVolumes'],
  ['runAsNonRoot', runAsNonRoot],
  ['runAsUser', runAsUser],
  ['seccompProfile_restricted', seccomp(true), 'seccompProfile_baseline'],
];

/** The aggregated ForbiddenDetail of a pod at a level, or undefined when it passes (policy/checks.go `AggregateCheckResults`). */
export function podSecurityViolations(level: Level, meta: any, spec: any): string | undefined {
  if (level === 'privileged' || !spec) return undefined;
  const overridden = new Set(level === 'restricted' ? RESTRICTED.map(([, , over]) => over) : []);
  const checks = [...BASELINE.filter(([id]) => !overridden.has(id)), ...(level === 'restricted' ? RESTRICTED : [])];
  const failed = checks.map(([, check]) => check(meta ?? {}, spec)).filter((r): r is CheckResult => r !== undefined);
  return failed.length ? failed.map((r) => (r.detail ? `${r.reason} (${r.detail})` : r.reason)).join(', ') : undefined;
}

const LEVELS: Level[] = ['privileged', 'baseline', 'restricted'];
const rank = (level: Level) => LEVELS.indexOf(level);

/** One mode's level and version, printed as `restricted:latest`. */
export interface LevelVersion {
  level: Level;
  version: string;
}

/** The namespace's enforce and warn policies (api/helpers.go `PolicyToEvaluate`; defaults privileged:latest). */
export function namespacePolicy(namespace: KObject | undefined): { enforce: LevelVersion; warn: LevelVersion } {
  const labels = namespace?.metadata.labels ?? {};
  const level = (key: string, fallback: Level): Level | undefined => {
    const value = labels[`pod-security.kubernetes.io/${key}`];
    if (value === undefined) return undefined;
    // A bad enforce level fails closed (restricted); a bad warn level fails open.
    return (LEVELS as string[]).includes(value) ? (value as Level) : fallback;
  };
  const version = (key: string) => {
    const value = labels[`pod-security.kubernetes.io/${key}-version`];
    return value !== undefined && /^v1\.(0|[1-9]\d*)$/.test(value) ? value : 'latest';
  };
  const enforce: LevelVersion = { level: level('enforce', 'restricted') ?? 'privileged', version: version('enforce') };
  let warn: LevelVersion = { level: level('warn', 'privileged') ?? 'privileged', version: version('warn') };
  const hasWarn = labels['pod-security.kubernetes.io/warn'] !== undefined;
  const hasWarnVersion = labels['pod-security.kubernetes.io/warn-version'] !== undefined;
  // Warn defaults to a stricter enforce level (since 1.26, kubernetes/kubernetes#113491), but
  // not to an enforce level that failed to parse.
  const hasEnforce = (LEVELS as Array<string | undefined>).includes(labels['pod-security.kubernetes.io/enforce']);
  if (!hasWarn && hasEnforce && rank(enforce.level) > rank(warn.level)) {
    warn = { level: enforce.level, version: hasWarnVersion ? warn.version : enforce.version };
  }
  return { enforce, warn };
}

const MODES = ['enforce', 'audit', 'warn'] as const;

/**
 * The errors of a namespace's Pod Security labels, in PolicyToEvaluate's order (each mode's
 * level, then its version): field.Invalid on `metadata.labels[<label>]`, worded as
 * api/helpers.go `ParseLevel` and `ParseVersion` word them.
 */
export function policyLabelErrors(labels: Record<string, string> | undefined): StatusCause[] {
  const causes: StatusCause[] = [];
  const invalid = (label: string, detail: string) => {
    const key = `pod-security.kubernetes.io/${label}`;
    causes.push({ reason: 'FieldValueInvalid', field: `metadata.labels[${key}]`, message: `Invalid value: ${JSON.stringify(labels![key])}: ${detail}` });
  };
  for (const mode of MODES) {
    const level = labels?.[`pod-security.kubernetes.io/${mode}`];
    if (level !== undefined && !(LEVELS as string[]).includes(level)) invalid(mode, `must be one of ${LEVELS.join(', ')}`);
    const version = labels?.[`pod-security.kubernetes.io/${mode}-version`];
    if (version !== undefined && version !== 'latest' && !/^v1\.(0|[1-9]\d*)$/.test(version)) invalid(`${mode}-version`, 'must be "latest" or "v1.x"');
  }
  return causes;
}

export const policyName = (p: LevelVersion) => `${p.level}:${p.version}`;
