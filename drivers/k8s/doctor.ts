import { AuthorizationV1Api, VersionApi, type KubeConfig } from '@kubernetes/client-node';
import { messageWithCause, statusCodeOf } from './api-errors.js';
import { loadKubeConfig } from './kubeconfig.js';
import { resolveKubernetesNamespace, type K8sDriverOptions } from './options.js';

/** One line of the doctor's report. `ok: null` means it could not be verified. */
export interface DoctorCheck {
  name: string;
  ok: boolean | null;
  detail: string;
}

/** What `doctor` found. `ok` is false when any check failed (unverifiable checks do not fail it). */
export interface DoctorReport {
  ok: boolean;
  context?: string;
  server?: string;
  kubernetesNamespace?: string;
  checks: DoctorCheck[];
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
    checks.push({ name: 'kubeconfig', ok: false, detail: messageWithCause(error) });
    return { ok: false, checks };
  }
  const report: DoctorReport = { ok: true, context: kc.getCurrentContext(), server: kc.getCurrentCluster()?.server, kubernetesNamespace: namespace, checks };
  try {
    const version = await kc.makeApiClient(VersionApi).getCode();
    checks.push({ name: 'reachability', ok: true, detail: `API server ${version.gitVersion}` });
  } catch (error) {
    checks.push({ name: 'reachability', ok: false, detail: `GET /version failed: ${messageWithCause(error)}` });
    report.ok = false;
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
