import { describe, expect, it } from 'vitest';
import { profileCluster, type ProfileCluster } from './helpers.js';

/**
 * pods/log `stream` (KEP-3288) as each version and gate answers it. The API server validates
 * PodLogOptions before it looks the pod up, so the 422s need no pod (API-only clusters);
 * what the kubelet sends back is read from real pods.
 */

const [v131, v132, v133on, old, split, olderKubelet, kubeletOff] = await Promise.all([
  profileCluster({ kubeVersion: '1.31', apiOnly: true }),
  profileCluster({ kubeVersion: '1.32', apiOnly: true }),
  profileCluster({ kubeVersion: '1.33', featureGates: 'PodLogsQuerySplitStreams=true', apiOnly: true }),
  // With a node:
  profileCluster({ kubeVersion: '1.31' }),
  profileCluster({ kubeVersion: '1.32', featureGates: 'PodLogsQuerySplitStreams=true' }),
  profileCluster({ kubeVersion: '1.33', featureGates: 'PodLogsQuerySplitStreams=true', kubeletVersion: '1.31' }),
  profileCluster({ kubeVersion: '1.34', featureGates: 'PodLogsQuerySplitStreams=true', kubeletFeatureGates: 'PodLogsQuerySplitStreams=false' }),
]);

const log = (ns: string, query: string) => `/api/v1/namespaces/${ns}/pods/absent/log?${query}`;

describe('pods/log stream: the API server', () => {
  it('before 1.32 the field does not exist: the parameter is dropped', async () => {
    const answer = await v131.get(log(v131.namespace, 'stream=Bogus&tailLines=1'));
    expect(answer.status).toBe(404);
    expect(answer.json().message).toBe('pods "absent" not found');
  });

  it('1.32+ with the gate off: any stream, even empty or All, is 422 FieldValueForbidden', async () => {
    for (const query of ['stream=Stdout', 'stream=All', 'stream=']) {
      const answer = await v132.get(log(v132.namespace, query));
      expect(answer.status).toBe(422);
      expect(answer.json()).toMatchObject({
        kind: 'Status',
        reason: 'Invalid',
        message: 'PodLogOptions "absent" is invalid: stream: Forbidden: may not be specified',
        details: { name: 'absent', kind: 'PodLogOptions', causes: [{ reason: 'FieldValueForbidden', message: 'Forbidden: may not be specified', field: 'stream' }] },
      });
    }
    expect((await v132.get(log(v132.namespace, 'tailLines=1'))).status).toBe(404);
  });

  it('gate on: a bad value is FieldValueNotSupported; a specific stream with tailLines is Forbidden; All with tailLines passes', async () => {
    const bad = await v133on.get(log(v133on.namespace, 'stream=stdout'));
    expect(bad.status).toBe(422);
    expect(bad.json().details.causes).toEqual([{ reason: 'FieldValueNotSupported', message: 'Unsupported value: "stdout": supported values: "All", "Stderr", "Stdout"', field: 'stream' }]);
    const tail = await v133on.get(log(v133on.namespace, 'stream=Stderr&tailLines=2&limitBytes=0'));
    expect(tail.status).toBe(422);
    expect(tail.json().message).toBe('PodLogOptions "absent" is invalid: [limitBytes: Invalid value: 0: must be greater than 0, : Forbidden: `tailLines` and specific `stream` are mutually exclusive for now]');
    expect((await v133on.get(log(v133on.namespace, 'stream=All&tailLines=2'))).status).toBe(404);
  });
});

describe('pods/log stream: what the kubelet sends', () => {
  const script = 'echo out; sleep 0.2; echo err >&2';
  const read = async (c: ProfileCluster, pod: string, stream: string) => {
    const answer = await c.get(`/api/v1/namespaces/${c.namespace}/pods/${pod}/log?stream=${stream}`);
    expect(answer.status).toBe(200);
    return answer.body.toString();
  };

  it('the combined log where the field is dropped (1.31) or the kubelet lacks it (skew); split where both have it', async () => {
    const pods = await Promise.all([old, split, olderKubelet, kubeletOff].map((c) => c.runPod(script)));
    expect(await read(split, pods[1]!.metadata.name, 'Stdout')).toBe('out\n');
    expect(await read(split, pods[1]!.metadata.name, 'Stderr')).toBe('err\n');
    // The combined log: the runtime copies the two pipes apart, so a loaded machine may deliver 'err' first.
    const combined = (text: string) => text === 'out\nerr\n' || text === 'err\nout\n';
    expect(await read(split, pods[1]!.metadata.name, 'All')).toSatisfy(combined);
    for (const [c, pod] of [[old, pods[0]!], [olderKubelet, pods[2]!], [kubeletOff, pods[3]!]] as const) {
      for (const stream of ['Stdout', 'Stderr', 'All']) expect(await read(c, pod.metadata.name, stream)).toSatisfy(combined);
    }
  });
});
