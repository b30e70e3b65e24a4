import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { admitWithIdentity, defaultObject, defaultSpec } from '../admission.js';
import { applyProfileFields } from '../profile/fields.js';
import { admitCreate, admitNamespace, assignGeneratedName, warningHeader } from '../admission/index.js';
import type { KObject } from '../api.js';
import { groupVersion } from '../resources.js';
import { parseFieldSelector } from '../store/selectors.js';
import { errors } from '../status.js';
import { validateObject, validateUpdate } from '../validation.js';
import { decodeLease } from '../coordination.js';
import type { HttpContext, Route } from './context.js';
import { applyPatch } from './patch.js';
import { readJson, sendJson } from './respond.js';
import { toTable, wantsTable } from './tables.js';
import { serveWatch } from './watch.js';

/** get / list / watch / create / update / patch of stored objects. */

function group(route: Route): string | undefined {
  return route.info.group || undefined;
}

function isDryRun(query: URLSearchParams): boolean {
  return query.getAll('dryRun').includes('All');
}

/** A namespaced write needs an existing namespace; creating in a terminating one is forbidden. */
export function checkNamespace(ctx: HttpContext, route: Route, creating: boolean, name: string): void {
  if (!route.info.namespaced || route.namespace === undefined) return;
  const ns = ctx.store.get('namespaces', undefined, route.namespace);
  if (!ns) throw errors.notFound('namespaces', route.namespace);
  if (creating && ns.metadata.deletionTimestamp) {
    throw errors.forbidden(route.info.plural, name, `unable to create new content in namespace ${route.namespace} because it is being terminated`, group(route));
  }
}

export function getObject(ctx: HttpContext, route: Route): KObject {
  const object = ctx.store.get(route.info.plural, route.namespace, route.name!);
  if (!object) throw errors.notFound(route.info.plural, route.name!, group(route));
  return object;
}

export function serveGet(ctx: HttpContext, route: Route, req: IncomingMessage, res: ServerResponse): void {
  const object = getObject(ctx, route);
  if (wantsTable(req.headers.accept)) sendJson(res, 200, toTable(route.info, [object], object.metadata.resourceVersion, route.query.get('includeObject')));
  else sendJson(res, 200, object);
}

/** Objects of a collection URL matching its selectors. */
export function selectObjects(ctx: HttpContext, route: Route): KObject[] {
  const fields = parseFieldSelector(route.info.plural, route.query.get('fieldSelector'));
  return ctx.store.list(route.info.plural, route.namespace, route.query.get('labelSelector') ?? undefined).filter(fields);
}

export function serveList(ctx: HttpContext, route: Route, req: IncomingMessage, res: ServerResponse): void {
  const table = wantsTable(req.headers.accept);
  const includeObject = route.query.get('includeObject');
  const watch = route.query.get('watch');
  if (watch === 'true' || watch === '1') {
    const render = table ? (o: KObject) => toTable(route.info, [o], o.metadata.resourceVersion, includeObject) : (o: KObject) => o;
    serveWatch(ctx, route, req, res, render);
    return;
  }
  const items = selectObjects(ctx, route);
  const resourceVersion = ctx.store.resourceVersion;
  if (table) {
    sendJson(res, 200, toTable(route.info, items, resourceVersion, includeObject));
    return;
  }
  sendJson(res, 200, { kind: `${route.info.kind}List`, apiVersion: groupVersion(route.info), metadata: { resourceVersion }, items });
}

/** Checks a request body's kind/apiVersion/namespace/name against the URL. */
function checkBody(route: Route, body: any, nameFromUrl?: string): KObject {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw errors.badRequest('the request body must be a JSON object');
  const gv = groupVersion(route.info);
  if (body.apiVersion !== undefined && body.apiVersion !== gv) {
    throw errors.badRequest(`the API version in the data (${body.apiVersion}) does not match the expected API version (${gv})`);
  }
  if (body.kind !== undefined && body.kind !== route.info.kind) {
    throw errors.badRequest(`the kind in the data (${body.kind}) does not match the expected kind (${route.info.kind})`);
  }
  body.apiVersion = gv;
  body.kind = route.info.kind;
  body.metadata ??= {};
  if (typeof body.metadata !== 'object') throw errors.badRequest('metadata must be an object');
  if (route.info.namespaced) {
    if (body.metadata.namespace !== undefined && body.metadata.namespace !== '' && body.metadata.namespace !== route.namespace) {
      throw errors.badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    body.metadata.namespace = route.namespace;
  }
  if (nameFromUrl !== undefined && body.metadata.name !== undefined && body.metadata.name !== nameFromUrl) {
    throw errors.badRequest(`the name of the object (${body.metadata.name}) does not match the name on the URL (${nameFromUrl})`);
  }
  if (nameFromUrl !== undefined) body.metadata.name = nameFromUrl;
  if (route.info.plural === 'leases') decodeLease(body as KObject);
  return body as KObject;
}

export async function serveCreate(ctx: HttpContext, route: Route, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (route.info.namespaced && route.namespace === undefined) throw errors.methodNotAllowed(`the server does not allow this method on the requested resource`);
  const body = checkBody(route, await readJson(req));
  const meta = body.metadata;
  for (const field of ['uid', 'resourceVersion', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'generation', 'selfLink', 'managedFields']) delete meta[field];
  checkNamespace(ctx, route, true, meta.name || meta.generateName || '');
  defaultObject(route.info.plural, body);
  validateObject(route.info, body);
  applyProfileFields(route.info.plural, body, ctx.profile.server, route.info.kind, route.info.group || undefined);
  if (!isDryRun(route.query)) assignGeneratedName(body);
  const headers = warningHeader(admitCreate(ctx.store, route.info.plural, body, isDryRun(route.query)));
  if (isDryRun(route.query)) {
    const preview = structuredClone(body);
    preview.metadata.name ||= `${meta.generateName ?? ''}dryrun`;
    preview.metadata.uid = randomUUID();
    preview.metadata.creationTimestamp = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    admitWithIdentity(route.info.plural, preview);
    sendJson(res, 201, preview, headers);
    return;
  }
  const created = ctx.store.create(route.info.plural, body, (object) => admitWithIdentity(route.info.plural, object));
  sendJson(res, 201, created, headers);
}

/** Fields a PUT of the main resource may not change; the status subresource owns status. */
function mergeForUpdate(route: Route, current: KObject, incoming: KObject): KObject {
  if (route.subresource === 'status') {
    const next = structuredClone(current);
    next.status = incoming.status;
    if (incoming.metadata.labels !== undefined) next.metadata.labels = incoming.metadata.labels;
    if (incoming.metadata.annotations !== undefined) next.metadata.annotations = incoming.metadata.annotations;
    return next;
  }
  const next = structuredClone(incoming);
  defaultSpec(route.info.plural, next);
  if (current.status !== undefined) next.status = current.status;
  else delete next.status;
  for (const field of ['uid', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'generation'] as const) {
    if (current.metadata[field] !== undefined) (next.metadata as Record<string, unknown>)[field] = current.metadata[field];
    else delete next.metadata[field];
  }
  if (current.metadata.deletionTimestamp && (next.metadata.finalizers?.length ?? 0) > (current.metadata.finalizers?.length ?? 0)) {
    throw errors.invalid(route.info.kind, current.metadata.name, [{ reason: 'FieldValueForbidden', message: 'Forbidden: no new finalizers can be added if the object is being deleted', field: 'metadata.finalizers' }], group(route));
  }
  return next;
}

/** PUT and PATCH share this: conflict check, validation, store write. */
function writeUpdate(ctx: HttpContext, route: Route, res: ServerResponse, current: KObject, incoming: KObject): void {
  const wanted = incoming.metadata.resourceVersion;
  if (wanted && wanted !== current.metadata.resourceVersion) throw errors.conflict(route.info.plural, current.metadata.name, group(route));
  const next = mergeForUpdate(route, current, incoming);
  if (route.subresource !== 'status') validateUpdate(route.info, current, next);
  if (route.info.plural === 'namespaces' && route.subresource === undefined) admitNamespace(next, current);
  if (isDryRun(route.query)) {
    sendJson(res, 200, next);
    return;
  }
  const updated = ctx.store.update(route.info.plural, route.namespace, current.metadata.name, (object) => {
    for (const key of Object.keys(object)) delete object[key];
    Object.assign(object, structuredClone(next));
  });
  if (!updated) throw errors.notFound(route.info.plural, current.metadata.name, group(route));
  sendJson(res, 200, updated);
}

export async function serveUpdate(ctx: HttpContext, route: Route, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = checkBody(route, await readJson(req), route.name);
  const current = getObject(ctx, route);
  writeUpdate(ctx, route, res, current, body);
}

export async function servePatch(ctx: HttpContext, route: Route, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const patch = await readJson(req);
  const current = getObject(ctx, route);
  const patched = applyPatch(req.headers['content-type'], current, patch) as KObject;
  const body = checkBody(route, patched, route.name);
  // Only a resourceVersion the patch itself sets is a precondition.
  if (body.metadata.resourceVersion === current.metadata.resourceVersion) delete (body.metadata as Record<string, unknown>).resourceVersion;
  writeUpdate(ctx, route, res, current, body);
}
