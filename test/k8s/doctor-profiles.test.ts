import { describe, expect, it } from 'vitest';
import { doctor } from '../../drivers/k8s/index.js';
import { useLocalCluster } from '../setup/local-cluster.js';

// What doctor reports where the exec protocol and log streams differ: 1.28 (v4, no `stream`)
// and 1.33 with split streams on (v5, streams apart).
const v128 = await useLocalCluster({ kubeVersion: '1.28' });
const split = await useLocalCluster({ kubeVersion: '1.33', featureGates: 'PodLogsQuerySplitStreams=true' });

const line = (report: Awaited<ReturnType<typeof doctor>>, name: string) => report.checks.find((check) => check.name === name);

describe('k8s doctor per server version', () => {
  it('1.28: the server version, the v4 exec protocol (input framed), the combined log, the default storage class', async () => {
    const report = await doctor({ kubeconfig: v128.kubeconfigPath }, { signal: AbortSignal.timeout(100_000) });
    expect(line(report, 'reachability')).toMatchObject({ ok: true, detail: expect.stringMatching(/^API server v1\.28\./) });
    expect(line(report, 'exec protocol')).toMatchObject({ ok: true, detail: expect.stringMatching(/^v4\.channel\.k8s\.io \(below v5/) });
    expect(line(report, 'log streams')).toMatchObject({ ok: true, detail: expect.stringMatching(/^combined into stdout/) });
    expect(line(report, 'storage class')).toMatchObject({ ok: true, detail: expect.stringMatching(/^default "standard" \(provisioner .*, volumeBindingMode Immediate\)$/) });
    expect(report.ok).toBe(true);
  }, 120_000);

  it("1.33 with split streams: v5 and streams apart; splitLogStreams 'never' is said as such", async () => {
    const report = await doctor({ kubeconfig: split.kubeconfigPath }, { signal: AbortSignal.timeout(100_000) });
    expect(line(report, 'reachability')).toMatchObject({ ok: true, detail: expect.stringMatching(/^API server v1\.33\./) });
    expect(line(report, 'exec protocol')).toMatchObject({ ok: true, detail: expect.stringMatching(/^v5\.channel\.k8s\.io \(stdin ends with the CLOSE frame\)$/) });
    expect(line(report, 'log streams')).toMatchObject({ ok: true, detail: expect.stringMatching(/^stdout and stderr apart/) });
    const never = await doctor({ kubeconfig: split.kubeconfigPath, splitLogStreams: 'never' }, { signal: AbortSignal.timeout(100_000) });
    expect(line(never, 'log streams')).toEqual({ name: 'log streams', ok: true, detail: "combined into stdout (splitLogStreams: 'never')" });
  }, 120_000);
});
