import { describe, expect, it } from 'vitest';
import { defaultGates, parseFeatureGates, resolveGates } from '../../k8s-server/profile/gates.js';
import { profileOptionsFromEnv, resolveProfile } from '../../k8s-server/profile/profile.js';

describe('feature gates of a profile', () => {
  it('defaults per version, as kube_features.go lists them', () => {
    expect(defaultGates('1.28')).toEqual({
      SidecarContainers: false,
      JobPodReplacementPolicy: false,
      PodReadyToStartContainersCondition: false,
      PodHostIPs: false,
    });
    expect(defaultGates('1.29')).toMatchObject({ TranslateStreamCloseWebsocketRequests: false, SidecarContainers: true, JobPodReplacementPolicy: true, PodHostIPs: true });
    expect(defaultGates('1.30')).toMatchObject({ TranslateStreamCloseWebsocketRequests: true, JobManagedBy: false, JobSuccessPolicy: false, RecursiveReadOnlyMounts: false });
    expect(defaultGates('1.31')).toMatchObject({ JobSuccessPolicy: true, RecursiveReadOnlyMounts: true, PodHostIPs: true });
    const v132 = defaultGates('1.32');
    expect(v132).toMatchObject({ PodLogsQuerySplitStreams: false, JobManagedBy: true });
    expect(v132).not.toHaveProperty('PodHostIPs');
    expect(defaultGates('1.34')).toMatchObject({ PodLogsQuerySplitStreams: false, TranslateStreamCloseWebsocketRequests: true, SidecarContainers: true });
  });

  it('parses --feature-gates text as component-base does, with its errors', () => {
    expect(parseFeatureGates('A=true, B = false ,,C=1,D=F')).toEqual({ A: true, B: false, C: true, D: false });
    expect(() => parseFeatureGates('A')).toThrow('missing bool value for A');
    expect(() => parseFeatureGates('A=yes')).toThrow('invalid value of A=yes, err: strconv.ParseBool: parsing "yes": invalid syntax');
  });

  it('refuses unknown gates, gates the version lacks, and locked gates set away from their default', () => {
    expect(() => resolveGates('1.34', { Bogus: true })).toThrow('unrecognized feature gate: Bogus');
    expect(() => resolveGates('1.31', { PodLogsQuerySplitStreams: true })).toThrow('unrecognized feature gate: PodLogsQuerySplitStreams');
    expect(() => resolveGates('1.28', { TranslateStreamCloseWebsocketRequests: true })).toThrow('unrecognized feature gate: TranslateStreamCloseWebsocketRequests');
    expect(() => resolveGates('1.33', { SidecarContainers: false })).toThrow('cannot set feature gate SidecarContainers to false, feature is locked to true');
    expect(resolveGates('1.29', { TranslateStreamCloseWebsocketRequests: true }).TranslateStreamCloseWebsocketRequests).toBe(true);
    expect(resolveGates('1.32', { AllAlpha: true })).toMatchObject({ PodLogsQuerySplitStreams: true, JobManagedBy: true });
  });

  it('a profile: server and kubelet gates, skew, env variables', () => {
    const skewed = resolveProfile({ kubeVersion: '1.33', featureGates: 'PodLogsQuerySplitStreams=true', kubeletVersion: '1.31' });
    expect(skewed.server.enabled('PodLogsQuerySplitStreams')).toBe(true);
    // A gate the older kubelet does not know is not set on it.
    expect(skewed.kubelet.version).toBe('1.31');
    expect(skewed.kubelet.gates).not.toHaveProperty('PodLogsQuerySplitStreams');
    const nodeOff = resolveProfile({ kubeVersion: '1.33', featureGates: { PodLogsQuerySplitStreams: true }, kubeletFeatureGates: 'PodLogsQuerySplitStreams=false' });
    expect([nodeOff.server.enabled('PodLogsQuerySplitStreams'), nodeOff.kubelet.enabled('PodLogsQuerySplitStreams')]).toEqual([true, false]);
    expect(resolveProfile().server.version).toBe('1.34');
    expect(() => resolveProfile({ kubeVersion: '1.27' as never })).toThrow('kubeVersion "1.27" is not reproduced: use one of 1.28, 1.29, 1.30, 1.31, 1.32, 1.33, 1.34');
    expect(profileOptionsFromEnv({ KUBE_VERSION: '1.30', FEATURE_GATES: '', KUBELET_VERSION: '1.29' })).toEqual({ kubeVersion: '1.30', kubeletVersion: '1.29' });
  });
});
