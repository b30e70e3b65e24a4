/**
 * The feature gates whose behaviour the local cluster reproduces, with their default per
 * Kubernetes minor version, as `pkg/features/kube_features.go` (VersionedSpecs, release 1.35)
 * lists them; gates removed before that release are taken from `kube_features.go` at the
 * releases that still had them. `--feature-gates` text is parsed as component-base's
 * `featureGate.Set` parses it (k8s.io/component-base/featuregate/feature_gate.go).
 */

/** A Kubernetes minor version the local cluster can reproduce. */
export type KubeVersion = '1.28' | '1.29' | '1.30' | '1.31' | '1.32' | '1.33' | '1.34';

/** Every reproducible version, oldest first. */
export const KUBE_VERSIONS: readonly KubeVersion[] = ['1.28', '1.29', '1.30', '1.31', '1.32', '1.33', '1.34'];

/** The version a cluster reproduces when none is asked for: the newest. */
export const LATEST_KUBE_VERSION: KubeVersion = '1.34';

type Stage = 'Alpha' | 'Beta' | 'GA' | 'Deprecated';

/** The state of a gate from one minor version on. */
interface GateSpec {
  since: number;
  default: boolean;
  stage: Stage;
  locked?: boolean;
}

/** A gate the local cluster models; `removedIn` is the first minor version without it. */
interface GateInfo {
  specs: GateSpec[];
  removedIn?: number;
}

const spec = (since: number, stage: Stage, value: boolean, locked = false): GateSpec => ({ since, stage, default: value, ...(locked ? { locked } : {}) });

/** The modelled gates (minor versions as numbers: 28 = 1.28). */
export const GATES = {
  // Split stdout/stderr on pods/log, KEP-3288.
  PodLogsQuerySplitStreams: { specs: [spec(32, 'Alpha', false)] },
  // The API server serves v5.channel.k8s.io (stdin close) by translating to the kubelet, KEP-4006.
  TranslateStreamCloseWebsocketRequests: { specs: [spec(29, 'Alpha', false), spec(30, 'Beta', true)] },
  // Init containers with restartPolicy: Always run as sidecars, KEP-753.
  SidecarContainers: { specs: [spec(28, 'Alpha', false), spec(29, 'Beta', true), spec(33, 'GA', true, true)] },
  // Job: podReplacementPolicy, status.terminating, KEP-3939.
  JobPodReplacementPolicy: { specs: [spec(28, 'Alpha', false), spec(29, 'Beta', true), spec(34, 'GA', true, true)] },
  // Job: spec.managedBy, KEP-4368.
  JobManagedBy: { specs: [spec(30, 'Alpha', false), spec(32, 'Beta', true)] },
  // Job: spec.successPolicy and the SuccessCriteriaMet condition, KEP-3998.
  JobSuccessPolicy: { specs: [spec(30, 'Alpha', false), spec(31, 'Beta', true), spec(33, 'GA', true, true)] },
  // The kubelet's PodReadyToStartContainers condition, KEP-3085.
  PodReadyToStartContainersCondition: { specs: [spec(28, 'Alpha', false), spec(29, 'Beta', true)] },
  // status.hostIPs, KEP-2681 (removed from kube_features.go in 1.32, GA since 1.30).
  PodHostIPs: { specs: [spec(28, 'Alpha', false), spec(29, 'Beta', true), spec(30, 'GA', true, true)], removedIn: 32 },
  // containerStatuses[].volumeMounts, KEP-3857.
  RecursiveReadOnlyMounts: { specs: [spec(30, 'Alpha', false), spec(31, 'Beta', true), spec(33, 'GA', true, true)] },
} satisfies Record<string, GateInfo>;

/** The name of a modelled gate. */
export type GateName = keyof typeof GATES;

/** Gate values by name (only gates that exist at the version). */
export type GateValues = Partial<Record<GateName, boolean>>;

/** A bad `--feature-gates` value, worded as kube-apiserver words it. */
export class FeatureGateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FeatureGateError';
  }
}

export const minorOf = (version: KubeVersion): number => Number(version.split('.')[1]);

/** The gate's state at a version, or undefined when the gate does not exist there. */
function specAt(info: GateInfo, minor: number): GateSpec | undefined {
  if (info.removedIn !== undefined && minor >= info.removedIn) return undefined;
  let current: GateSpec | undefined;
  for (const s of info.specs) if (s.since <= minor) current = s;
  return current;
}

/** Every modelled gate that exists at `version`, at its default. */
export function defaultGates(version: KubeVersion): GateValues {
  const values: GateValues = {};
  for (const [name, info] of Object.entries(GATES) as Array<[GateName, GateInfo]>) {
    const s = specAt(info, minorOf(version));
    if (s) values[name] = s.default;
  }
  return values;
}

/** strconv.ParseBool's accepted spellings. */
const BOOLS: Record<string, boolean> = { '1': true, t: true, T: true, TRUE: true, true: true, True: true, '0': false, f: false, F: false, FALSE: false, false: false, False: false };

/**
 * Parses `Name=true,Other=false` as `featureGate.Set` does: empty items are skipped, keys and
 * values are trimmed, values are Go bools. Throws {@link FeatureGateError} worded as the real one.
 */
export function parseFeatureGates(text: string): Record<string, boolean> {
  const values: Record<string, boolean> = {};
  for (const item of text.split(',')) {
    if (item.length === 0) continue;
    const at = item.indexOf('=');
    const key = (at === -1 ? item : item.slice(0, at)).trim();
    if (at === -1) throw new FeatureGateError(`missing bool value for ${key}`);
    const raw = item.slice(at + 1).trim();
    const value = BOOLS[raw];
    if (value === undefined) throw new FeatureGateError(`invalid value of ${key}=${raw}, err: strconv.ParseBool: parsing ${JSON.stringify(raw)}: invalid syntax`);
    values[key] = value;
  }
  return values;
}

/**
 * The gates of one component at `version`: the defaults, then `overrides` applied as
 * `featureGate.SetFromMap` applies them (`AllAlpha`/`AllBeta` first, then each named gate).
 * An unknown name (or one that does not exist at that version) and a locked gate set away
 * from its default are errors, as in kube-apiserver.
 */
export function resolveGates(version: KubeVersion, overrides: Record<string, boolean> = {}): GateValues {
  const minor = minorOf(version);
  const values = defaultGates(version);
  const named = Object.entries(overrides).filter(([name]) => name !== 'AllAlpha' && name !== 'AllBeta');
  for (const [name] of named) {
    const info = (GATES as Record<string, GateInfo>)[name];
    if (!info || !specAt(info, minor)) throw new FeatureGateError(`unrecognized feature gate: ${name}`);
  }
  for (const stage of ['Alpha', 'Beta'] as const) {
    const all = overrides[`All${stage}`];
    if (all === undefined) continue;
    for (const [name, info] of Object.entries(GATES) as Array<[GateName, GateInfo]>) {
      if (specAt(info, minor)?.stage === stage) values[name] = all;
    }
  }
  for (const [name, value] of named) {
    const s = specAt((GATES as Record<string, GateInfo>)[name]!, minor)!;
    if (s.locked && s.default !== value) throw new FeatureGateError(`cannot set feature gate ${name} to ${value}, feature is locked to ${s.default}`);
    values[name as GateName] = value;
  }
  return values;
}
