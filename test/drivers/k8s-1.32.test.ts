import { describe, expect, it } from 'vitest';
import { logsAndStreamsSent, testProfile } from './k8s-profile.js';

// Kubernetes 1.32 as clusters run it by default: PodLogsQuerySplitStreams off, so any pods/log `stream` is refused (422 FieldValueForbidden).
const cluster = await testProfile('1.32 (split log streams off)', { kubeVersion: '1.32' });

describe('k8s 1.32, split log streams off', () => {
  it('the probe reads the refusal (FieldValueForbidden) as no split streams: no read sends stream', async () => {
    const { result, streamsSent } = await logsAndStreamsSent(cluster);
    expect(result).toMatchObject({ stderr: '', streams: 'combined' });
    expect(result.stdout.split('\n').sort()).toEqual(['', 'err', 'out']);
    expect(streamsSent).toEqual([]);
  }, 120_000);
});
