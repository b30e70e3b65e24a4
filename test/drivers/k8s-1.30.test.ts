import { describe, expect, it } from 'vitest';
import { logsAndStreamsSent, testProfile } from './k8s-profile.js';

// Kubernetes 1.30: no pods/log `stream` field; exec/attach v5.channel.k8s.io.
const cluster = await testProfile('1.30', { kubeVersion: '1.30' });

describe('k8s 1.30, no stream field', () => {
  it('the probe reads the dropped parameter (200) as no split streams: the combined log, no read sends stream', async () => {
    const { result, streamsSent } = await logsAndStreamsSent(cluster);
    expect(result).toMatchObject({ stderr: '', streams: 'combined' });
    expect(result.stdout.split('\n').sort()).toEqual(['', 'err', 'out']);
    expect(streamsSent).toEqual([]);
  }, 120_000);
});
