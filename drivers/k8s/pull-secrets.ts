import type { V1Secret } from '@kubernetes/client-node';
import { toDockerConfigJson, type RegistryCredentials } from '../../src/credentials.js';
import { ConflictError, InvalidInputError } from '../../src/errors.js';
import { LABELS } from '../../src/labels.js';
import { isAlreadyExists, isNotFound } from './api-errors.js';
import type { K8sContext } from './context.js';
import { objectLabels, toLabelValue } from './naming.js';

/**
 * Image pull Secrets (`kubernetes.io/dockerconfigjson`, key `.dockerconfigjson`, as
 * `kubectl create secret docker-registry` makes them), labelled with the drivetrain
 * namespace so that `close` reaps them.
 */

const SECRET_TYPE = 'kubernetes.io/dockerconfigjson';
const DATA_KEY = '.dockerconfigjson';
/** A Secret name is a DNS-1123 subdomain (apimachinery `ValidateSecretName`). */
const SECRET_NAME = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** A concurrent writer may win a replace this many times before the call gives up. */
const MAX_REPLACE_ATTEMPTS = 5;

/** The Secret object of a pull secret. */
export function buildPullSecret(ctx: Pick<K8sContext, 'options' | 'ns'>, name: string, credentials: readonly RegistryCredentials[]): V1Secret {
  const { options } = ctx;
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: SECRET_TYPE,
    metadata: {
      name,
      namespace: ctx.ns,
      labels: { ...options.labels, ...objectLabels(options.namespace, 'pull-secret') },
      ...(options.annotations === undefined ? {} : { annotations: { ...options.annotations } }),
    },
    data: { [DATA_KEY]: Buffer.from(toDockerConfigJson(credentials)).toString('base64') },
  };
}

/**
 * Creates the pull secret `name`, or brings an existing one of this drivetrain namespace
 * up to date (its content replaced when it differs). A Secret of that name that is not
 * this namespace's is a `ConflictError`: it is never overwritten.
 */
export async function ensurePullSecret(ctx: K8sContext, name: string, credentials: RegistryCredentials | readonly RegistryCredentials[], signal?: AbortSignal): Promise<void> {
  if (typeof name !== 'string' || !SECRET_NAME.test(name)) throw new InvalidInputError('name', 'a Secret name: lower-case letters, digits, "-" and ".", at most 253 characters', name);
  const list = Array.isArray(credentials) ? (credentials as readonly RegistryCredentials[]) : [credentials as RegistryCredentials];
  if (list.length === 0) throw new InvalidInputError('credentials', 'credentials of at least one registry');
  const secret = buildPullSecret(ctx, name, list);
  ctx.made.note('secrets');
  try {
    await ctx.call(`create pull secret "${name}"`, () => ctx.core.createNamespacedSecret({ namespace: ctx.ns, body: secret }), signal);
    return;
  } catch (error) {
    if (!isAlreadyExists(error)) throw error;
  }
  for (let attempt = 1; ; attempt++) {
    const stored = await ctx.call(`get pull secret "${name}"`, () => ctx.core.readNamespacedSecret({ name, namespace: ctx.ns }), signal);
    const labels = stored.metadata?.labels ?? {};
    if (labels[LABELS.managed] !== 'true' || labels[LABELS.namespace] !== toLabelValue(ctx.options.namespace)) {
      throw new ConflictError(`Secret "${name}" exists and was not made by drivetrain namespace "${ctx.options.namespace}"; choose another name, or delete it`);
    }
    if (stored.type === SECRET_TYPE && stored.data?.[DATA_KEY] === secret.data?.[DATA_KEY]) return;
    if (stored.type !== SECRET_TYPE) {
      // The type of a Secret is immutable (core validation ValidateSecretUpdate): only a new one can change it.
      throw new ConflictError(`Secret "${name}" of drivetrain namespace "${ctx.options.namespace}" has type ${stored.type ?? 'Opaque'}, not ${SECRET_TYPE}; delete it, or choose another name`);
    }
    try {
      const body = { ...secret, metadata: { ...secret.metadata, resourceVersion: stored.metadata?.resourceVersion } };
      await ctx.call(`replace pull secret "${name}"`, () => ctx.core.replaceNamespacedSecret({ name, namespace: ctx.ns, body }), signal);
      return;
    } catch (error) {
      // 409 on replace: another writer changed it since it was read; read it again.
      if (!(error instanceof ConflictError) || attempt >= MAX_REPLACE_ATTEMPTS) throw error;
    }
  }
}

/**
 * Deletes the pull secrets of this drivetrain namespace (`close`). A caller not allowed to list
 * Secrets, whose driver made none, has nothing to delete (see `MadeKinds.listForClose`).
 */
export async function deletePullSecrets(ctx: K8sContext, labelSelector: string, signal?: AbortSignal): Promise<void> {
  const listed = await ctx.made.listForClose('secrets', async () => (await ctx.call('list pull secrets', () => ctx.core.listNamespacedSecret({ namespace: ctx.ns, labelSelector: `${labelSelector},${LABELS.role}=pull-secret` }), signal)).items, ctx.options.logger);
  const names = listed.map((s) => s.metadata?.name).filter((n): n is string => n !== undefined);
  await Promise.all(
    names.map(async (name) => {
      try {
        await ctx.call(`delete pull secret "${name}"`, () => ctx.core.deleteNamespacedSecret({ name, namespace: ctx.ns }), signal);
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
    }),
  );
}
