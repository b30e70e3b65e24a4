import { describe, expect, it } from 'vitest';
import { createK8sDriver } from '../../drivers/k8s/index.js';
import { readLogs } from '../../src/logs.js';
import { logsAndStreamsSent } from '../drivers/k8s-profile.js';
import { testNamespace } from '../setup/test-run.js';
import { useLocalCluster } from '../setup/local-cluster.js';

// The profiles the log-stream probe is judged on besides those of test/drivers/k8s-*.test.ts.
// 1.31: no `stream` field at all (the parameter is dropped, the probe's invalid value gets a 200).
const v131 = await useLocalCluster({ kubeVersion: '1.31' });
// Version skew: the API server takes `stream`, the kubelet does not (KEP-3288): every value gives the combined log.
const skew = await useLocalCluster({ kubeVersion: '1.33', featureGates: 'PodLogsQuerySplitStreams=true', kubeletFeatureGates: { PodLogsQuerySplitStreams: false } });
// Split streams served and working.
const split = await useLocalCluster({ kubeVersion: '1.33', featureGates: 'PodLogsQuerySplitStreams=true' });

const TIMEOUT = 120_000;

describe('k8s logs: split streams told apart per server', () => {
  it('1.31: the first read is the probe, its invalid value answered 200 with the combined log: stdout once, one request', async () => {
    const { result, streamsSent, probed, reads } = await logsAndStreamsSent(v131);
    expect(probed).toBe(true);
    expect(reads).toBe(1);
    expect(result).toMatchObject({ stderr: '', streams: 'combined' });
    expect(result.stdout.split('\n').sort()).toEqual(['', 'err', 'out']);
    expect(streamsSent).toEqual([]);
  }, TIMEOUT);

  it("version skew with splitLogStreams 'never': no probe, no stream sent, the combined log to stdout once", async () => {
    const { result, streamsSent, probed } = await logsAndStreamsSent(skew, { splitLogStreams: 'never' });
    expect(probed).toBe(false);
    expect(streamsSent).toEqual([]);
    expect(result).toMatchObject({ stderr: '', streams: 'combined' });
    expect(result.stdout.split('\n').sort()).toEqual(['', 'err', 'out']);
  }, TIMEOUT);

  it("version skew with 'auto' (the documented caveat): the probe passes, and each stream read gives the combined log", async () => {
    const { result, streamsSent, probed } = await logsAndStreamsSent(skew);
    expect(probed).toBe(true);
    expect(streamsSent.sort()).toEqual(['Stderr', 'Stdout']);
    expect(result.streams).toBe('separate');
    expect(result.stdout.split('\n').sort()).toEqual(['', 'err', 'out']);
    expect(result.stderr).toBe(result.stdout);
  }, TIMEOUT);

  it('reads made at once before anything is learnt wait for the one probe\'s answer, then read the streams apart', async () => {
    const driver = createK8sDriver({ namespace: testNamespace('cs'), kubeconfig: split.kubeconfigPath });
    try {
      const ids = ['first', 'second', 'third'];
      const containers = await Promise.all(ids.map((id) => driver.runContainer({ id, image: 'busybox', command: ['sh', '-c', `echo ${id}; echo ${id}-err >&2`] })));
      await Promise.all(containers.map((container) => container.wait()));
      const before = split.metrics.recent('get', 'pods').length;
      const results = await Promise.all(containers.map((container) => readLogs(container)));
      expect(results).toEqual(ids.map((id) => ({ stdout: `${id}\n`, stderr: `${id}-err\n`, streams: 'separate' })));
      const streams = split.metrics
        .recent('get', 'pods')
        .slice(before)
        .map((request) => new URL(request.requestURI, 'https://x').searchParams.get('stream'));
      expect(streams.filter((stream) => stream === 'DrivetrainProbe')).toHaveLength(1);
      expect(streams).toHaveLength(1 + 2 * ids.length);
    } finally {
      await driver.close();
    }
  }, TIMEOUT);

  it("splitLogStreams 'never' where streams are served: no probe, the combined log to stdout once", async () => {
    const { result, streamsSent, probed } = await logsAndStreamsSent(split, { splitLogStreams: 'never' });
    expect(probed).toBe(false);
    expect(streamsSent).toEqual([]);
    expect(result).toMatchObject({ stderr: '', streams: 'combined' });
    expect(result.stdout.split('\n').sort()).toEqual(['', 'err', 'out']);
  }, TIMEOUT);
});
