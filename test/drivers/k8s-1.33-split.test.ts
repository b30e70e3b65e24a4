import { describe, expect, it } from 'vitest';
import { logsAndStreamsSent, testProfile } from './k8s-profile.js';

// Kubernetes 1.33 with PodLogsQuerySplitStreams on: stdout and stderr read apart.
const cluster = await testProfile('1.33 (split log streams on)', { kubeVersion: '1.33', featureGates: 'PodLogsQuerySplitStreams=true' });

describe('k8s 1.33, split log streams on', () => {
  it('the probe reads FieldValueNotSupported as split streams: stdout and stderr read apart', async () => {
    const { result, streamsSent } = await logsAndStreamsSent(cluster);
    expect(result).toEqual({ stdout: 'out\n', stderr: 'err\n', streams: 'separate' });
    expect(streamsSent.sort()).toEqual(['Stderr', 'Stdout']);
  }, 120_000);
});
