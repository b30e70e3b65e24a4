import type { ClusterProfile } from '../profile/profile.js';
import { RESOURCES, groupVersion, subresourceKind, verbsOf, type ResourceInfo } from '../resources.js';

/** Legacy (non-aggregated) discovery documents: kubectl and client-node both accept them. */

/**
 * `/version` (apimachinery pkg/version.Info) of the reproduced version. The `+drivetrain`
 * build metadata marks the local server without changing how clients compare versions.
 */
export function versionInfo(profile: ClusterProfile): object {
  return {
    major: '1',
    minor: String(profile.server.minor),
    gitVersion: `v${profile.server.version}.0+drivetrain`,
    gitCommit: '0000000000000000000000000000000000000000',
    gitTreeState: 'clean',
    buildDate: '2026-01-01T00:00:00Z',
    goVersion: 'go1.23.0',
    compiler: 'gc',
    platform: 'linux/amd64',
  };
}

export function apiVersions(serverAddress: string): object {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
}

function groups(): string[] {
  return [...new Set(RESOURCES.filter((r) => r.group !== '').map((r) => r.group))];
}

export function apiGroupList(): object {
  return {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: groups().map((name) => {
      const gv = { groupVersion: `${name}/v1`, version: 'v1' };
      return { name, versions: [gv], preferredVersion: gv };
    }),
  };
}

export function apiGroup(name: string): object | undefined {
  if (!groups().includes(name)) return undefined;
  const gv = { groupVersion: `${name}/v1`, version: 'v1' };
  return { kind: 'APIGroup', apiVersion: 'v1', name, versions: [gv], preferredVersion: gv };
}

function entry(info: ResourceInfo): object[] {
  const main = {
    name: info.plural,
    singularName: info.singular,
    namespaced: info.namespaced,
    kind: info.kind,
    verbs: verbsOf(info),
    ...(info.shortNames.length ? { shortNames: info.shortNames } : {}),
    ...(info.categories.length ? { categories: info.categories } : {}),
    storageVersionHash: '',
  };
  const subs = info.subresources.map((sub) => ({
    name: `${info.plural}/${sub}`,
    singularName: '',
    namespaced: info.namespaced,
    kind: subresourceKind(info, sub),
    verbs: verbsOf(info, sub),
  }));
  return [main, ...subs];
}

/** `/api/v1` or `/apis/<group>/v1`; undefined for an unknown group version. */
export function apiResourceList(gv: string): object | undefined {
  const resources = RESOURCES.filter((r) => groupVersion(r) === gv);
  if (resources.length === 0) return undefined;
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: gv, resources: resources.flatMap(entry) };
}
