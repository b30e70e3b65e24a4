import { FeatureGateError, KUBE_VERSIONS, LATEST_KUBE_VERSION, minorOf, parseFeatureGates, resolveGates, type GateName, type GateValues, type KubeVersion } from './gates.js';

export { FeatureGateError, KUBE_VERSIONS, LATEST_KUBE_VERSION, type GateName, type KubeVersion } from './gates.js';

/** Feature gates as kube-apiserver's `--feature-gates` text (`A=true,B=false`) or as a map. */
export type FeatureGatesInput = string | Record<string, boolean>;

/** What a cluster reproduces: the versions and feature gates of its API server and kubelet. */
export interface ProfileOptions {
  /** Minor version of the API server and controllers. @default the newest, {@link LATEST_KUBE_VERSION} */
  kubeVersion?: KubeVersion;
  /** Gates of every component (API server, controllers, kubelet), as a real cluster's config sets them. @default none: the version's defaults */
  featureGates?: FeatureGatesInput;
  /** Minor version of the kubelet, for version skew. @default kubeVersion */
  kubeletVersion?: KubeVersion;
  /** Gates of the kubelet alone, applied after `featureGates` (skew between API server and node). @default none */
  kubeletFeatureGates?: FeatureGatesInput;
}

/** One component's version and gates. */
export interface ComponentProfile {
  version: KubeVersion;
  /** Minor version as a number (28 for 1.28). */
  minor: number;
  gates: GateValues;
  enabled(gate: GateName): boolean;
}

/** A resolved profile. */
export interface ClusterProfile {
  /** The API server, its admission and the controllers. */
  server: ComponentProfile;
  kubelet: ComponentProfile;
  /** `--feature-gates` text that reproduces the server's non-default gates, for logs. */
  describe(): string;
}

function asMap(input: FeatureGatesInput | undefined): Record<string, boolean> {
  if (input === undefined) return {};
  return typeof input === 'string' ? parseFeatureGates(input) : { ...input };
}

function checkVersion(name: string, version: string): KubeVersion {
  if ((KUBE_VERSIONS as readonly string[]).includes(version)) return version as KubeVersion;
  throw new FeatureGateError(`${name} ${JSON.stringify(version)} is not reproduced: use one of ${KUBE_VERSIONS.join(', ')}`);
}

function component(version: KubeVersion, overrides: Record<string, boolean>): ComponentProfile {
  const gates = resolveGates(version, overrides);
  return { version, minor: minorOf(version), gates, enabled: (gate) => gates[gate] === true };
}

/** Resolves options into a profile; throws {@link FeatureGateError} for a bad version or gate. */
export function resolveProfile(options: ProfileOptions = {}): ClusterProfile {
  const serverVersion = checkVersion('kubeVersion', options.kubeVersion ?? LATEST_KUBE_VERSION);
  const kubeletVersion = checkVersion('kubeletVersion', options.kubeletVersion ?? serverVersion);
  const shared = asMap(options.featureGates);
  const server = component(serverVersion, shared);
  // A gate the kubelet's version does not know yet is not set on it (an older node ignores it).
  const known = resolveGates(kubeletVersion);
  const forKubelet = Object.fromEntries(Object.entries(shared).filter(([name]) => name in known || name.startsWith('All')));
  const kubelet = component(kubeletVersion, { ...forKubelet, ...asMap(options.kubeletFeatureGates) });
  return {
    server,
    kubelet,
    describe() {
      const text = Object.entries(shared).map(([k, v]) => `${k}=${v}`).join(',');
      const skew = kubeletVersion !== serverVersion || options.kubeletFeatureGates ? ` (kubelet ${kubeletVersion}${options.kubeletFeatureGates ? ` ${Object.entries(asMap(options.kubeletFeatureGates)).map(([k, v]) => `${k}=${v}`).join(',')}` : ''})` : '';
      return `Kubernetes ${serverVersion}${text ? ` with ${text}` : ''}${skew}`;
    },
  };
}

/**
 * Profile options from `KUBE_VERSION`, `FEATURE_GATES`, `KUBELET_VERSION` and
 * `KUBELET_FEATURE_GATES` (as `make cluster` and `make conformance` take them); unset or
 * empty variables are left out.
 */
export function profileOptionsFromEnv(env: NodeJS.ProcessEnv): ProfileOptions {
  const get = (name: string) => env[name] || undefined;
  return {
    ...(get('KUBE_VERSION') ? { kubeVersion: get('KUBE_VERSION') as KubeVersion } : {}),
    ...(get('FEATURE_GATES') ? { featureGates: get('FEATURE_GATES')! } : {}),
    ...(get('KUBELET_VERSION') ? { kubeletVersion: get('KUBELET_VERSION') as KubeVersion } : {}),
    ...(get('KUBELET_FEATURE_GATES') ? { kubeletFeatureGates: get('KUBELET_FEATURE_GATES')! } : {}),
  };
}
