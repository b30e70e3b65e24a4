import type { KubeConfig } from '@kubernetes/client-node';
import type { DoctorCheck, DoctorReport as BaseDoctorReport } from '../../src/types.js';
import { messageWithCause } from './api-errors.js';
import { execProtocolCheck, logStreamsCheck, podAdmissionCheck, storageClassCheck } from './doctor-cluster.js';
import { permissionChecks } from './doctor-permissions.js';
import { loadKubeConfig } from './kubeconfig.js';
import { resolveKubernetesNamespace, resolveOptions, type K8sDriverOptions, type ResolvedK8sOptions } from './options.js';
import { clientNode } from './sdk.js';

export type { DoctorCheck } from '../../src/types.js';
export { REQUIRED_PERMISSIONS, type Permission } from './doctor-permissions.js';

/** What `doctor` found (see the contract's `DoctorReport`), with where it looked. */
export interface DoctorReport extends BaseDoctorReport {
  context?: string;
  server?: string;
  kubernetesNamespace?: string;
}

/** How the Kubernetes `doctor` runs. */
export interface K8sDoctorOptions {
  signal?: AbortSignal;
  /**
   * Longest wait for the probe sandbox (scheduled, pulled, started, one exec), in ms.
   * @default 60000
   */
  probeTimeoutMs?: number;
}

/** A check that stops the others: it is the report's `blockedBy`, and the report ends there. */
function blocked(report: DoctorReport, check: DoctorCheck): DoctorReport {
  report.checks.push(check);
  report.ok = false;
  report.blockedBy = check;
  return report;
}

/**
 * Checks that the driver can work with these options, in this order: the kubeconfig loads
 * (`kubeconfig`); the options are valid (`options`); the API server answers `/version`
 * (`reachability`, with the server's version); whether pods/log serves split streams
 * (`log streams`); the StorageClass volumes get and its binding mode (`storage class`); the
 * namespace's Pod Security level, and whether admission takes the driver's pods
 * (`pod security`, a dry-run create); each permission the driver uses
 * (SelfSubjectAccessReview; see docs/rbac.md); and the exec/attach subprotocol, negotiated in
 * a probe sandbox that is removed after (`exec protocol`). Never throws (but for an aborted
 * `signal`): problems are reported, each failing line saying what to do.
 */
export async function doctor(options: K8sDriverOptions = {}, run: K8sDoctorOptions = {}): Promise<DoctorReport> {
  const { signal } = run;
  let kc: KubeConfig;
  let kubernetesNamespace: string;
  try {
    kc = loadKubeConfig(options);
    kubernetesNamespace = resolveKubernetesNamespace(options.kubernetesNamespace, kc);
  } catch (error) {
    return blocked({ ok: false, checks: [] }, { name: 'kubeconfig', ok: false, detail: messageWithCause(error) });
  }
  const checks: DoctorCheck[] = [{ name: 'kubeconfig', ok: true, detail: `context "${kc.getCurrentContext()}", server ${kc.getCurrentCluster()?.server}` }];
  const server = kc.getCurrentCluster()?.server;
  const where = [['server', server], ['context', kc.getCurrentContext()], ['namespace', kubernetesNamespace]]
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `${key} ${value}`)
    .join(', ');
  const report: DoctorReport = { ok: true, context: kc.getCurrentContext(), server, kubernetesNamespace, checks, where };
  let resolved: ResolvedK8sOptions;
  try {
    resolved = resolveOptions({ ...options, namespace: options.namespace ?? 'doctor' }, kubernetesNamespace);
  } catch (error) {
    return blocked(report, { name: 'options', ok: false, detail: messageWithCause(error) });
  }
  try {
    const version = await kc.makeApiClient(clientNode().VersionApi).getCode();
    checks.push({ name: 'reachability', ok: true, detail: `API server ${version.gitVersion}` });
  } catch (error) {
    signal?.throwIfAborted();
    return blocked(report, { name: 'reachability', ok: false, detail: `GET /version failed: ${messageWithCause(error)}` });
  }
  checks.push(await logStreamsCheck(kc, resolved, signal));
  checks.push(await storageClassCheck(kc, resolved, signal));
  const admission = await podAdmissionCheck(kc, resolved, signal);
  checks.push(admission);
  const permissions = await permissionChecks(kc, kubernetesNamespace, signal);
  checks.push(...permissions);
  // The probe sandbox needs pods and exec, and admission: where they are refused, other lines say so already.
  const denied = permissions.filter((check) => check.ok === false && /pods( |\/exec)/.test(`${check.name} `)).map((check) => check.name);
  if (denied.length > 0) checks.push({ name: 'exec protocol', ok: null, detail: `not checked without ${denied.join(', ')}` });
  else if (admission.ok === false) checks.push({ name: 'exec protocol', ok: null, detail: "not checked: the driver's pods are refused (see pod security)" });
  else checks.push(await execProtocolCheck(kc, resolved, run.probeTimeoutMs ?? 60_000, signal));
  report.ok = checks.every((check) => check.ok !== false);
  return report;
}
