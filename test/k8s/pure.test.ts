import { describe, expect, it } from 'vitest';
import { HttpMethod, KubeConfig, RequestContext, type V1Pod } from '@kubernetes/client-node';
import { InvalidInputError } from '../../src/errors.js';
import { validateTask } from '../../src/validate.js';
import { claimName, taskObjectName } from '../../drivers/k8s/naming.js';
import { buildHelperPod, buildJob, buildPod } from '../../drivers/k8s/pod-spec.js';
import { deepMerge, securityContextsFor } from '../../drivers/k8s/pod-shell.js';
import { bytesToQuantity, cpuSharesToMillicores, quantityToBytes, resourcesFor } from '../../drivers/k8s/quantity.js';
import { DEFAULT_HELPER_IMAGE, resolveOptions } from '../../drivers/k8s/options.js';
import { hasStarted, startProblem, toContainerStatus } from '../../drivers/k8s/pod-status.js';
import { execStatus } from '../../drivers/k8s/remote.js';
import { sandboxExecArgv } from '../../drivers/k8s/exec-argv.js';
import { onTerminal, resizeFrame, terminalCommand } from '../../drivers/k8s/terminal.js';
import { TimestampedLines, timestampKey } from '../../drivers/k8s/timestamped-lines.js';
import { entryName } from '../../drivers/k8s/tar-names.js';
import { sharingConnections } from '../../drivers/k8s/shared-connections.js';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const options = resolveOptions({ namespace: 'ns1' }, 'default');

describe('object names', () => {
  const ids = ['simple', 'Upper', 'upper', 'with_underscore', 'ünïcødé-✓', 'a'.repeat(300), 'a'.repeat(299) + 'b', '-leading', 'trailing-', 'x', '日本語'];
  it.each(ids)('%s gives a DNS-1123 label of at most 63 characters', (id) => {
    const name = taskObjectName('ns1', id);
    expect(name.length).toBeLessThanOrEqual(63);
    expect(name).toMatch(DNS_LABEL);
  });
  it('keeps a name that needs no change, and hashes any that does', () => {
    expect(taskObjectName('ns1', 'build-42')).toBe('dt-ns1--build-42');
    expect(taskObjectName('ns1', 'Build_42')).toMatch(/^dt-ns1--build-42-[0-9a-f]{10}$/);
  });
  it('never maps two IDs to one name (case, cut, replaced characters)', () => {
    const names = new Set(ids.map((id) => taskObjectName('ns1', id)));
    expect(names.size).toBe(ids.length);
    expect(taskObjectName('ns1', 'a_b')).not.toBe(taskObjectName('ns1', 'a-b'));
  });
  it('scopes names by drivetrain namespace', () => {
    expect(taskObjectName('ns1', 'x')).not.toBe(taskObjectName('ns2', 'x'));
    expect(claimName('ns1', 'data')).toBe('dt-ns1--vol-data');
    expect(claimName('ns1', 'data_1.x')).toMatch(DNS_LABEL);
  });
});

describe('quantities', () => {
  it.each([
    [1073741824, '1Gi'],
    [1536 * 2 ** 20, '1536Mi'],
    [16 * 2 ** 20, '16Mi'],
    [1024, '1Ki'],
    [1000, '1000'],
    [2 ** 40, '1Ti'],
    [1073741825, '1073741825'],
  ])('%d bytes → %s, and back exactly', (bytes, quantity) => {
    expect(bytesToQuantity(bytes)).toBe(quantity);
    expect(quantityToBytes(quantity)).toBe(bytes);
  });
  it('reads decimal suffixes', () => {
    expect(quantityToBytes('1G')).toBe(1e9);
    expect(quantityToBytes('500M')).toBe(5e8);
    expect(quantityToBytes('lots')).toBeUndefined();
  });
  it('maps CPU shares to millicores (request = limit, the weight), memory requests at half the limit', () => {
    expect(cpuSharesToMillicores(1024)).toBe(1000);
    expect(cpuSharesToMillicores(512)).toBe(500);
    expect(cpuSharesToMillicores(2)).toBe(2);
    expect(resourcesFor({ cpuShares: 1024, memoryBytes: 64 * 2 ** 20 })).toEqual({ limits: { cpu: '1000m', memory: '64Mi' }, requests: { cpu: '1000m', memory: '32Mi' } });
    expect(resourcesFor({})).toEqual({});
  });
});

describe('pod spec', () => {
  const task = validateTask({ id: 'T_1', image: 'busybox', command: ['sh', '-c', 'echo hi'], env: { A: '1' }, mounts: [{ volume: 'data', path: 'out', readOnly: true }], limits: { memoryBytes: 16 * 2 ** 20 }, labels: { team: 'x' } });
  const pod = buildPod(task, { role: 'task', command: task.command, stdin: false, timeoutMs: 1500 }, options);
  const container = pod.spec?.containers[0];
  it('labels, annotates and names the pod from namespace and ID', () => {
    expect(pod.metadata?.name).toBe(taskObjectName('ns1', 'T_1'));
    expect(pod.metadata?.annotations?.['drivetrain.dev/task-id']).toBe('T_1');
    expect(pod.metadata?.labels).toMatchObject({ 'drivetrain.dev/managed': 'true', 'drivetrain.dev/namespace': 'ns1', 'drivetrain.dev/role': 'task', 'drivetrain.dev/task-id': 'T_1', team: 'x' });
  });
  it('runs the command once, with env, workDir, limits and a deadline', () => {
    expect(pod.spec?.restartPolicy).toBe('Never');
    expect(container?.command).toEqual(['sh', '-c', 'echo hi']);
    expect(container?.env).toEqual([{ name: 'A', value: '1' }]);
    expect(container?.workingDir).toBe(task.workDir);
    expect(container?.imagePullPolicy).toBe('IfNotPresent');
    expect(container?.resources?.limits?.memory).toBe('16Mi');
    expect(pod.spec?.activeDeadlineSeconds).toBe(2);
  });
  it('mounts an emptyDir at the default scratch dir and a claim per volume', () => {
    expect(pod.spec?.volumes).toEqual([{ name: 'scratch', emptyDir: {} }, { name: 'vol-0', persistentVolumeClaim: { claimName: claimName('ns1', 'data') } }]);
    expect(container?.volumeMounts).toEqual([{ name: 'scratch', mountPath: task.workDir }, { name: 'vol-0', mountPath: `${task.workDir}/out`, readOnly: true }]);
  });
  it('protects command and env from $(VAR) expansion', () => {
    const t = validateTask({ id: 'e', image: 'busybox', command: ['sh', '-c', 'echo $$ $(HOME)'], env: { V: '$(X)' } });
    const p = buildPod(t, { role: 'task', command: t.command, stdin: false }, options);
    expect(p.spec?.containers[0]?.command).toEqual(['sh', '-c', 'echo $$$$ $$(HOME)']);
    expect(p.spec?.containers[0]?.env).toEqual([{ name: 'V', value: '$$(X)' }]);
  });
  it('gives stdin only to a task that has input', () => {
    expect(container?.stdin).toBeUndefined();
    const withInput = buildPod(task, { role: 'task', command: ['cat'], stdin: true }, options);
    expect(withInput.spec?.containers[0]).toMatchObject({ stdin: true, stdinOnce: true });
  });
  it('puts a terminal task on a tty with an input side, as kubectl run -it does, behind the wait for its first size', () => {
    const t = validateTask({ id: 't', image: 'busybox', command: ['sh', '-c', 'echo $HOME'], tty: true });
    const p = buildPod(t, { role: 'task', command: terminalCommand(t.command), stdin: false, tty: true }, options);
    const c = p.spec?.containers[0];
    expect(c).toMatchObject({ tty: true, stdin: true, stdinOnce: true });
    expect(onTerminal(p.spec)).toBe(true);
    expect(onTerminal(pod.spec)).toBe(false);
    // The command stays separate words after the wrapper, $ escaped from Kubernetes' expansion.
    expect(c?.command?.slice(0, 2)).toEqual(['sh', '-c']);
    expect(c?.command?.slice(3)).toEqual(['drivetrain-tty', 'sh', '-c', 'echo $$HOME']);
  });
  it('maps numeric users (fsGroup from the group, else the user) and rejects names', () => {
    const none = { securityProfile: 'none' } as const;
    expect(securityContextsFor('1000:2000', false, none)).toEqual({ container: { runAsUser: 1000, runAsGroup: 2000 }, pod: { fsGroup: 2000 } });
    expect(securityContextsFor('65534', true, none)).toEqual({ container: { runAsUser: 65534, privileged: true }, pod: { fsGroup: 65534 } });
    expect(securityContextsFor(undefined, false, none)).toEqual({});
    expect(() => securityContextsFor('nobody', false, none)).toThrow(InvalidInputError);
    expect(() => securityContextsFor('nobody', false, none)).toThrow(/task\.user.*numeric/);
  });
  it('securityProfile restricted: what Pod Security "restricted" asks of every pod, and no privileged task', () => {
    const restricted = resolveOptions({ namespace: 'ns1', securityProfile: 'restricted' }, 'default');
    const p = buildPod(validateTask({ id: 'r', image: 'busybox', command: ['true'], user: '1000' }), { role: 'task', command: ['true'], stdin: false }, restricted);
    expect(p.spec?.securityContext).toEqual({ fsGroup: 1000, runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(p.spec?.containers[0]?.securityContext).toEqual({ runAsUser: 1000, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, runAsNonRoot: true });
    const helper = buildHelperPod('h', 'v', { path: '/data', readOnly: false }, restricted);
    expect(helper.spec?.securityContext).toEqual({ fsGroup: 65534, runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(helper.spec?.containers[0]?.securityContext).toMatchObject({ runAsUser: 65534, runAsGroup: 65534, allowPrivilegeEscalation: false });
    expect(() => buildPod(validateTask({ id: 'p', image: 'busybox', command: ['true'], privileged: true }), { role: 'task', command: ['true'], stdin: false }, restricted)).toThrow(/task\.privileged/);
  });
  it('gives helpers the tasks\' scheduling, identity and podTemplate, and resources a quota admits', () => {
    const shaped = resolveOptions(
      {
        namespace: 'ns1',
        nodeSelector: { pool: 'ci' },
        tolerations: [{ key: 'dedicated', operator: 'Exists' }],
        imagePullSecrets: ['reg'],
        serviceAccountName: 'builder',
        podTemplate: { spec: { priorityClassName: 'batch', containers: [{ name: 'task', image: 'ignored-for-helpers', env: [{ name: 'HTTP_PROXY', value: 'p' }] }, { name: 'sidecar', image: 'side' }] } as never },
        helperImage: 'registry.local/busybox:1',
      },
      'default',
    );
    const helper = buildHelperPod('h', 'v', { path: '/data', readOnly: true }, shaped);
    expect(helper.spec).toMatchObject({ nodeSelector: { pool: 'ci' }, tolerations: [{ key: 'dedicated', operator: 'Exists' }], imagePullSecrets: [{ name: 'reg' }], serviceAccountName: 'builder', priorityClassName: 'batch' });
    expect(helper.spec?.containers.map((c) => [c.name, c.image])).toEqual([['helper', 'registry.local/busybox:1'], ['sidecar', 'side']]);
    expect(helper.spec?.containers[0]).toMatchObject({ env: [{ name: 'HTTP_PROXY', value: 'p' }], resources: { requests: { cpu: '50m', memory: '32Mi' }, limits: { cpu: '1', memory: '256Mi' } } });
    const p = buildPod(task, { role: 'task', command: ['true'], stdin: false }, shaped);
    // Merged by name, not replaced: the task's own fields stay, the template's are added.
    expect(p.spec?.containers.map((c) => [c.name, c.image])).toEqual([['task', 'ignored-for-helpers'], ['sidecar', 'side']]);
    expect(p.spec?.containers[0]).toMatchObject({ command: ['true'], env: [{ name: 'HTTP_PROXY', value: 'p' }] });
  });
  it('applies secret env, pod shaping options and the podTemplate last', () => {
    const shaped = resolveOptions({ namespace: 'ns1', secretEnv: { TOKEN: { secret: 's', key: 'k' } }, nodeSelector: { disk: 'ssd' }, imagePullSecrets: ['reg'], podTemplate: { spec: { priorityClassName: 'high', containers: [] } as never, metadata: { labels: { extra: 'y' } } } }, 'default');
    const p = buildPod(task, { role: 'task', command: ['true'], stdin: false }, shaped);
    expect(p.spec?.nodeSelector).toEqual({ disk: 'ssd' });
    expect(p.spec?.imagePullSecrets).toEqual([{ name: 'reg' }]);
    expect(p.spec?.priorityClassName).toBe('high');
    expect(p.metadata?.labels?.extra).toBe('y');
    expect(p.metadata?.labels?.['drivetrain.dev/managed']).toBe('true');
    const noTemplate = buildPod(task, { role: 'task', command: ['true'], stdin: false }, { ...shaped, podTemplate: undefined });
    expect(noTemplate.spec?.containers[0]?.env).toContainEqual({ name: 'TOKEN', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } });
  });
  it('deep-merges objects and replaces arrays', () => {
    expect(deepMerge({ a: { b: 1, c: [1] } }, { a: { c: [2], d: 3 } })).toEqual({ a: { b: 1, c: [2], d: 3 } });
  });
  it('wraps the pod in a Job without retries', () => {
    const job = buildJob(pod, { ttlSecondsAfterFinished: 60 });
    expect(job.spec?.backoffLimit).toBe(0);
    expect(job.spec?.ttlSecondsAfterFinished).toBe(60);
    expect(job.metadata?.name).toBe(pod.metadata?.name);
    expect(job.spec?.template.metadata?.annotations?.['drivetrain.dev/task-id']).toBe('T_1');
  });
  it('defaults the helper image to a fully qualified image pinned by digest; the env or the option replace it', () => {
    expect(resolveOptions({ namespace: 'n' }, 'default', {}).helperImage).toBe(DEFAULT_HELPER_IMAGE);
    expect(DEFAULT_HELPER_IMAGE).toMatch(/^docker\.io\/library\/busybox:[0-9.]+@sha256:[0-9a-f]{64}$/);
    expect(resolveOptions({ namespace: 'n' }, 'default', { DRIVETRAIN_K8S_HELPER_IMAGE: 'mirror.local/busybox:1' }).helperImage).toBe('mirror.local/busybox:1');
    expect(resolveOptions({ namespace: 'n', helperImage: 'own/busybox:2' }, 'default', { DRIVETRAIN_K8S_HELPER_IMAGE: 'x' }).helperImage).toBe('own/busybox:2');
    expect(() => resolveOptions({ namespace: 'n', helperImage: ' ' }, 'default', {})).toThrow(/options\.helperImage/);
  });
  it('rejects bad options naming the field', () => {
    expect(() => resolveOptions({ namespace: 'n', mode: 'deployment' as never }, 'default')).toThrow(/options\.mode/);
    expect(() => resolveOptions({ namespace: 'n', startTimeoutMs: -1 }, 'default')).toThrow(/options\.startTimeoutMs/);
    expect(() => resolveOptions({ namespace: 'n', securityProfile: 'baseline' as never }, 'default')).toThrow(/options\.securityProfile/);
    expect(() => resolveOptions({ namespace: 'n', splitLogStreams: 'yes' as never }, 'default')).toThrow(/options\.splitLogStreams/);
  });
});

function podWith(status: Partial<NonNullable<V1Pod['status']>>): V1Pod {
  return { metadata: { name: 'p' }, status: status as V1Pod['status'] };
}

describe('status mapping', () => {
  it('takes the exit code only from the terminated task container', () => {
    expect(toContainerStatus(podWith({ phase: 'Succeeded', containerStatuses: [{ name: 'task', state: { terminated: { exitCode: 0, reason: 'Completed' } } } as never] }))).toEqual({ done: true, exitCode: 0, reason: 'Completed' });
    expect(toContainerStatus(podWith({ phase: 'Failed', containerStatuses: [{ name: 'task', state: { terminated: { exitCode: 137, reason: 'OOMKilled' } } } as never] }))).toMatchObject({ done: true, exitCode: 137, reason: 'OOMKilled' });
  });
  it('waits for the terminal phase before calling an exit final (the deadline may re-label it)', () => {
    expect(toContainerStatus(podWith({ phase: 'Running', containerStatuses: [{ name: 'task', state: { terminated: { exitCode: 137, reason: 'Error' } } } as never] }))).toEqual({ done: false, exitCode: null });
  });
  it('surfaces pod-level reasons and never invents a code', () => {
    expect(toContainerStatus(podWith({ phase: 'Failed', containerStatuses: [{ name: 'task', state: { terminated: { exitCode: 137, reason: 'ContainerStatusUnknown', message: 'lost' } } } as never] }))).toEqual({ done: true, exitCode: null, reason: 'ContainerStatusUnknown', message: 'lost' });
    expect(toContainerStatus(podWith({ phase: 'Failed', reason: 'DeadlineExceeded', containerStatuses: [{ name: 'task', state: { terminated: { exitCode: 137, reason: 'ContainerStatusUnknown' } } } as never] }))).toMatchObject({ done: true, exitCode: null, reason: 'DeadlineExceeded' });
    expect(toContainerStatus(podWith({ phase: 'Failed', reason: 'DeadlineExceeded', message: 'too long', containerStatuses: [{ name: 'task', state: { terminated: { exitCode: 137, reason: 'Error' } } } as never] }))).toMatchObject({ done: true, exitCode: 137, reason: 'DeadlineExceeded' });
    // The deadline passed while the container was being started: a timeout, not a start failure.
    const lateStart = podWith({ phase: 'Failed', reason: 'DeadlineExceeded', message: 'Pod was active on the node longer than the specified deadline', containerStatuses: [{ name: 'task', state: { terminated: { exitCode: 128, reason: 'ContainerCannotRun', message: 'container is marked for removal and cannot be started' } } } as never] });
    expect(toContainerStatus(lateStart)).toMatchObject({ done: true, exitCode: null, reason: 'DeadlineExceeded' });
    expect(hasStarted(lateStart)).toBe(true);
    expect(startProblem(lateStart, 0, undefined, { startTimeoutMs: 1000, pullTimeoutMs: 1000 })).toBeUndefined();
    expect(toContainerStatus(podWith({ phase: 'Failed', reason: 'Evicted' }))).toMatchObject({ done: true, exitCode: null, reason: 'Evicted' });
    expect(toContainerStatus(undefined)).toMatchObject({ done: true, exitCode: null, reason: 'Deleted' });
    expect(toContainerStatus(podWith({ phase: 'Running', containerStatuses: [{ name: 'task', state: { running: {} } } as never] }))).toEqual({ done: false, exitCode: null });
  });
  it('treats a process the runtime could not start as a start failure, without its 128', () => {
    const pod = podWith({ phase: 'Failed', containerStatuses: [{ name: 'task', state: { terminated: { exitCode: 128, reason: 'ContainerCannotRun', message: 'caps' } } } as never] });
    expect(toContainerStatus(pod)).toMatchObject({ done: true, exitCode: null, reason: 'ContainerCannotRun' });
    expect(startProblem(pod, 0, undefined, { startTimeoutMs: 1, pullTimeoutMs: 1 })).toMatchObject({ kind: 'start', reason: 'ContainerCannotRun' });
  });
  it('treats waiting reasons: fatal at once, pulls after the pull timeout, the rest after the start timeout', () => {
    const waiting = (reason: string): V1Pod => podWith({ phase: 'Pending', containerStatuses: [{ name: 'task', state: { waiting: { reason, message: 'm' } } } as never] });
    const limits = { startTimeoutMs: 1000, pullTimeoutMs: 500 };
    expect(startProblem(waiting('InvalidImageName'), 0, undefined, limits)).toMatchObject({ kind: 'image', reason: 'InvalidImageName' });
    expect(startProblem(waiting('CreateContainerConfigError'), 0, undefined, limits)).toMatchObject({ kind: 'start' });
    expect(startProblem(waiting('ErrImagePull'), 100, 100, limits)).toBeUndefined();
    expect(startProblem(waiting('ImagePullBackOff'), 600, 500, limits)).toMatchObject({ kind: 'image', reason: 'ImagePullBackOff' });
    expect(startProblem(waiting('ContainerCreating'), 999, undefined, limits)).toBeUndefined();
    expect(startProblem(waiting('ContainerCreating'), 1000, undefined, limits)).toMatchObject({ kind: 'timeout' });
    expect(startProblem(podWith({ phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/1 nodes' }] as never }), 1000, undefined, limits)).toMatchObject({ kind: 'timeout', reason: 'Unschedulable' });
  });
  it('reads exec exit codes from the status channel only', () => {
    expect(execStatus({ status: 'Success' })).toEqual({ done: true, exitCode: 0 });
    expect(execStatus({ status: 'Failure', reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: '3' }] } })).toMatchObject({ exitCode: 3 });
    expect(execStatus(undefined)).toMatchObject({ done: true, exitCode: null, reason: 'StreamLost' });
    expect(execStatus({ status: 'Failure', reason: 'InternalError', message: 'boom' })).toMatchObject({ exitCode: null, reason: 'InternalError' });
  });
});

describe('sandbox exec argv', () => {
  it('passes directory, env and arguments as separate words', () => {
    const argv = sandboxExecArgv(['echo', 'a b', '$HOME', "'q'"], '/w d', { X: 'y z' });
    expect(argv.slice(0, 3)).toEqual(['sh', '-c', 'cd "$1" || exit 126; shift; exec env -- "$@"']);
    expect(argv.slice(4)).toEqual(['/w d', 'X=y z', 'echo', 'a b', '$HOME', "'q'"]);
  });
});

describe('terminal frames', () => {
  it('writes a size on channel 4 as client-go does: {"Width":W,"Height":H} and a newline', () => {
    const frame = resizeFrame({ columns: 132, rows: 43 });
    expect(frame[0]).toBe(4);
    expect(frame.subarray(1).toString()).toBe('{"Width":132,"Height":43}\n');
  });
});

describe('timestamped log lines', () => {
  it('strips timestamps and de-duplicates across a reconnect', () => {
    const lines = new TimestampedLines();
    const out = lines.push(Buffer.from('2024-01-01T00:00:00.1Z a\n2024-01-01T00:00:00.1Z b\n2024-01-01T00:00:00.2Z c\n2024-01-01T00:00:01Z part'));
    expect(out.toString()).toBe('a\nb\nc\n');
    expect(lines.resumeFrom).toBe('2024-01-01T00:00:00.2Z');
    lines.reconnect();
    const again = lines.push(Buffer.from('2024-01-01T00:00:00.1Z b\n2024-01-01T00:00:00.2Z c\n2024-01-01T00:00:00.2Z c\n2024-01-01T00:00:01Z partial\n'));
    expect(again.toString()).toBe('c\npartial\n');
  });
  it('flushes a last line without newline at the clean end', () => {
    const lines = new TimestampedLines();
    expect(lines.push(Buffer.from('2024-01-01T00:00:00Z abc')).length).toBe(0);
    expect(lines.flush().toString()).toBe('abc');
  });
  it('orders fractions of different widths by time', () => {
    expect((timestampKey('2024-01-01T00:00:00.1Z') as string) > (timestampKey('2024-01-01T00:00:00.09Z') as string)).toBe(true);
  });
});

describe('tar entry names', () => {
  it.each([
    ['./a/b.txt', 'a/b.txt'],
    ['./', undefined],
    ['.', undefined],
    ['./dir/', 'dir/'],
    ['plain', 'plain'],
  ])('%s → %s', (raw, expected) => {
    expect(entryName(raw)).toBe(expected);
  });
});

describe('the API clients’ connections', () => {
  const kubeconfig = (user: Record<string, unknown>) => {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: 'https://127.0.0.1:6443', skipTLSVerify: false, caData: Buffer.from('the cluster CA (never read: nothing connects)').toString('base64') }],
      users: [{ name: 'u', ...user }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
    return kc;
  };
  const dispatcherOf = async (kc: KubeConfig) => {
    const context = new RequestContext('https://127.0.0.1:6443/api/v1/namespaces', HttpMethod.GET);
    await kc.applySecurityAuthentication(context);
    return context.getDispatcher();
  };

  it('share one dispatcher where client-node makes one per request', async () => {
    const kc = kubeconfig({ token: 't' });
    const [one, two] = [await dispatcherOf(kc), await dispatcherOf(kc)];
    expect(one).toBeDefined();
    expect(two).not.toBe(one);
    const shared = sharingConnections(kc);
    const first = await dispatcherOf(shared);
    expect(first).toBeDefined();
    expect(await dispatcherOf(shared)).toBe(first);
    const context = new RequestContext('https://127.0.0.1:6443/api', HttpMethod.GET);
    await shared.applySecurityAuthentication(context);
    expect(context.getHeaders()['Authorization']).toBe('Bearer t');
  });

  it('stay per request with an exec plugin (its certificates may rotate)', () => {
    const kc = kubeconfig({ exec: { command: 'true', apiVersion: 'client.authentication.k8s.io/v1' } });
    expect(sharingConnections(kc)).toBe(kc);
  });
});
