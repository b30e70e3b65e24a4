import type { IncomingMessage, ServerResponse } from 'node:http';
import type { KObject } from '../api.js';
import { errors, StatusError } from '../status.js';
import type { HttpContext, Route } from './context.js';
import { getObject, selectObjects } from './objects.js';
import { readJson, sendJson } from './respond.js';

/** DELETE of one object and of a collection, with the real deletion semantics per kind. */

interface DeleteOptions {
  gracePeriodSeconds?: number;
  propagationPolicy?: 'Orphan' | 'Background' | 'Foreground';
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun?: string[];
}

const ORPHAN_WARNING = '299 - "child pods are preserved by default when jobs are deleted; set propagationPolicy=Background to remove them or set propagationPolicy=Orphan to suppress this warning"';

async function readOptions(req: IncomingMessage, query: URLSearchParams): Promise<DeleteOptions> {
  const body = ((await readJson(req)) ?? {}) as DeleteOptions & { orphanDependents?: boolean };
  const options: DeleteOptions = { ...body };
  const grace = query.get('gracePeriodSeconds');
  if (grace !== null) options.gracePeriodSeconds = Number(grace);
  const policy = query.get('propagationPolicy');
  if (policy !== null) options.propagationPolicy = policy as DeleteOptions['propagationPolicy'];
  if (body.orphanDependents !== undefined && options.propagationPolicy === undefined) options.propagationPolicy = body.orphanDependents ? 'Orphan' : 'Background';
  if (options.propagationPolicy !== undefined && !['Orphan', 'Background', 'Foreground'].includes(options.propagationPolicy)) {
    throw errors.invalid('DeleteOptions', '', [{ reason: 'FieldValueNotSupported', message: `Unsupported value: "${options.propagationPolicy}": supported values: "Foreground", "Background", "Orphan"`, field: 'propagationPolicy' }]);
  }
  if (options.gracePeriodSeconds !== undefined && !(Number.isInteger(options.gracePeriodSeconds) && options.gracePeriodSeconds >= 0)) {
    throw errors.badRequest(`invalid gracePeriodSeconds: ${String(options.gracePeriodSeconds)}`);
  }
  if (query.getAll('dryRun').includes('All')) options.dryRun = ['All'];
  return options;
}

function timestampIn(seconds: number): string {
  return new Date(Date.now() + seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Marks for deletion (finalizers or graceful pods) or removes now; returns what the response shows. */
function deleteOne(ctx: HttpContext, route: Route, object: KObject, options: DeleteOptions): { object: KObject; removed: boolean } {
  const { plural } = route.info;
  const ns = object.metadata.namespace;
  const name = object.metadata.name;
  const markDeleted = (grace: number, extraFinalizer?: string) =>
    ctx.store.update(plural, ns, name, (o) => {
      if (extraFinalizer && !o.metadata.finalizers?.includes(extraFinalizer)) o.metadata.finalizers = [...(o.metadata.finalizers ?? []), extraFinalizer];
      // A second DELETE may shorten the grace period, never lengthen it.
      const at = timestampIn(grace);
      if (!o.metadata.deletionTimestamp || at < o.metadata.deletionTimestamp) {
        o.metadata.deletionTimestamp = at;
        o.metadata.deletionGracePeriodSeconds = grace;
      }
      if (plural === 'namespaces') o.status = { ...(o.status ?? {}), phase: 'Terminating' };
    });
  const finish = (updated: KObject | undefined) => {
    const still = ctx.store.get(plural, ns, name);
    return { object: updated ?? object, removed: !still };
  };

  if (plural === 'pods') {
    const terminal = object.status?.phase === 'Succeeded' || object.status?.phase === 'Failed';
    // pkg/registry/core/pod/strategy.go CheckGracefulDelete: the option, else the pod's own
    // period; 0 when unscheduled or ended. A period of 0 without finalizers removes the object
    // at once (apiserver registry/generic/registry/store.go Delete), a force delete whatever
    // asked for it: the node still stops the containers (SIGTERM, SIGKILL a second later).
    let grace = options.gracePeriodSeconds ?? object.spec?.terminationGracePeriodSeconds ?? 30;
    if (!object.spec?.nodeName || terminal) grace = 0;
    if (grace === 0 && !object.metadata.finalizers?.length) {
      return { object: ctx.store.remove(plural, ns, name) ?? object, removed: true };
    }
    return finish(markDeleted(grace));
  }
  if (plural === 'namespaces') return finish(markDeleted(0));
  const policy = options.propagationPolicy ?? (plural === 'jobs' ? 'Orphan' : 'Background');
  if (policy === 'Orphan' && (plural === 'jobs' || plural === 'deployments')) {
    for (const pod of ctx.store.list('pods', ns)) {
      if (!pod.metadata.ownerReferences?.some((r) => r.uid === object.metadata.uid)) continue;
      ctx.store.update('pods', ns, pod.metadata.name, (p) => {
        p.metadata.ownerReferences = p.metadata.ownerReferences?.filter((r) => r.uid !== object.metadata.uid);
        if (p.metadata.ownerReferences?.length === 0) delete p.metadata.ownerReferences;
      });
    }
  }
  if (policy === 'Foreground') return finish(markDeleted(0, 'foregroundDeletion'));
  if (object.metadata.finalizers?.length) return finish(markDeleted(0));
  return { object: ctx.store.remove(plural, ns, name) ?? object, removed: true };
}

function statusSuccess(route: Route, object: KObject): object {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Success',
    details: { name: object.metadata.name, ...(route.info.group ? { group: route.info.group } : {}), kind: route.info.plural, uid: object.metadata.uid },
  };
}

export async function serveDelete(ctx: HttpContext, route: Route, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const options = await readOptions(req, route.query);
  const object = getObject(ctx, route);
  const pre = options.preconditions;
  const failed = (what: string, wanted: string, actual: string) => {
    const conflict = errors.conflict(route.info.plural, object.metadata.name, route.info.group || undefined);
    return new StatusError({ ...conflict.status, message: `Precondition failed: ${what} in precondition: ${wanted}, ${what} in object meta: ${actual}` });
  };
  if (pre?.uid && pre.uid !== object.metadata.uid) throw failed('UID', pre.uid, object.metadata.uid);
  if (pre?.resourceVersion && pre.resourceVersion !== object.metadata.resourceVersion) throw failed('ResourceVersion', pre.resourceVersion, object.metadata.resourceVersion);
  const headers: Record<string, string> = {};
  if (route.info.plural === 'jobs' && options.propagationPolicy === undefined) headers['Warning'] = ORPHAN_WARNING;
  if (options.dryRun) {
    sendJson(res, 200, object, headers);
    return;
  }
  const result = deleteOne(ctx, route, object, options);
  // Jobs and deployments answer a Status once removed; pods, PVCs and namespaces answer the object.
  const asStatus = result.removed && ['jobs', 'deployments', 'secrets', 'configmaps', 'events', 'leases'].includes(route.info.plural);
  sendJson(res, 200, asStatus ? statusSuccess(route, result.object) : result.object, headers);
}

export async function serveDeleteCollection(ctx: HttpContext, route: Route, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const options = await readOptions(req, route.query);
  const items = selectObjects(ctx, route).filter((o) => !o.metadata.deletionTimestamp || route.info.plural === 'pods');
  const deleted = options.dryRun ? items : items.map((object) => deleteOne(ctx, route, object, options).object);
  sendJson(res, 200, { kind: `${route.info.kind}List`, apiVersion: route.info.group ? `${route.info.group}/${route.info.version}` : route.info.version, metadata: { resourceVersion: ctx.store.resourceVersion }, items: deleted });
}
