import { AuthorizationV1Api, VersionApi, type KubeConfig } from '@kubernetes/client-node';
import { messageWithCause, statusCodeOf } from './api-errors.js';
import { loadKubeConfig } from './kubeconfig.js';
import type { DoctorCheck, DoctorReport as BaseDoctorReport } from '../../src/types.js';
import { resolveKubernetesNamespace, type K8sDriverOptions } from './options.js';

export type { DoctorCheck } from '../../src/types.js';

/** What `doctor` found (see the contract's `DoctorReport`), with where it looked. */
export interface DoctorReport extends BaseDoctorReport {
  context?: string;
  server?: string;
  kubernetesNamespace?: string;
}

/** The API permissions the driver uses, as [group, resource, subresource, verbs]. */
export const REQUIRED_PERMISSIONS: ReadonlyArray<readonly [string, string, string, readonly string[]]> = [
  ['', 'pods', '', ['create', 'get', 'list', 'watch', 'delete']],
  ['', 'pods', 'log', ['get']],
  ['', 'pods', 'exec', ['create']],
  ['', 'pods', 'attach', ['create']],
  ['', 'persistentvolumeclaims', '', ['create', 'get', 'list', 'delete']],
  ['', 'events', '', ['list']],
  ['batch', 'jobs', '', ['create', 'get', 'list', 'delete']],
];

/**
 * Checks that the driver can work with these options: the kubeconfig loads, the API
 * server answers `/version`, and (through SelfSubjectAccessReview) the RBAC verbs the
 * driver needs are allowed in the Kubernetes namespace. Never throws: problems are
 * reported. A server without SelfSubjectAccessReview yields `ok: null` ("cannot verify").
 */
export async function doctor(options: K8sDriverOptions = {}): Promise<DoctorReport> {
  const checks: DoctorCheck[] = [];
  let kc: KubeConfig;
  let namespace: string;
  try {
    kc = loadKubeConfig(options);
    namespace = resolveKubernetesNamespace(options.kubernetesNamespace, kc);
    checks.push({ name: 'kubeconfig', ok: true, detail: `context "${kc.getCurrentContext()}", server ${kc.getCurrentCluster()?.server}` });
  } catch (error) {
    const blockedBy: DoctorCheck = { name: 'kubeconfig', ok: false, detail: messageWithCause(error) };
    checks.push(blockedBy);
    return { ok: false, checks, blockedBy };
  }
  const server = kc.getCurrentCluster()?.server;
  const where = [['server', server], ['context', kc.getCurrentContext()], ['namespace', namespace]]
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `${key} ${value}`)
    .join(', ');
  const report: DoctorReport = { ok: true, context: kc.getCurrentContext(), server, kubernetesNamespace: namespace, checks, where };
  try {
    const version = await kc.makeApiClient(VersionApi).getCode();
    checks.push({ name: 'reachability', ok: true, detail: `API server ${version.gitVersion}` });
  } catch (error) {
    const blockedBy: DoctorCheck = { name: 'reachability', ok: false, detail: `GET /version failed: ${messageWithCause(error)}` };
    checks.push(blockedBy);
    report.ok = false;
    report.blockedBy = blockedBy;
    return report;
  }
  const authorization = kc.makeApiClient(AuthorizationV1Api);
  for (const [group, resource, subresource, verbs] of REQUIRED_PERMISSIONS) {
    for (const verb of verbs) {
      const name = `${verb} ${group === '' ? '' : `${group}/`}${resource}${subresource === '' ? '' : `/${subresource}`}`;
      try {
        const review = await authorization.createSelfSubjectAccessReview({
          body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes: { namespace, verb, group, resource, ...(subresource === '' ? {} : { subresource }) } } },
        });
        const allowed = review.status?.allowed === true;
        checks.push({ name, ok: allowed, detail: allowed ? 'allowed' : `denied${review.status?.reason ? `: ${review.status.reason}` : ''} (see docs/rbac.md)` });
        if (!allowed) report.ok = false;
      } catch (error) {
        const status = statusCodeOf(error);
        if (status === 404 || status === 405 || status === 501) {
          checks.push({ name, ok: null, detail: 'cannot verify: the server does not offer SelfSubjectAccessReview' });
        } else {
          checks.push({ name, ok: false, detail: `access review failed: ${messageWithCause(error)}` });
          report.ok = false;
        }
      }
    }
  }
  return report;
}
