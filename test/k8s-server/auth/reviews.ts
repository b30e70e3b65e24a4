import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Route } from '../http/context.js';
import { readJson, sendJson } from '../http/respond.js';
import { errors, type StatusCause } from '../status.js';
import type { Attributes } from './attributes.js';
import type { Auth } from './auth.js';
import { aggregate, rulesFor } from './rbac.js';
import { SYSTEM_MASTERS } from './user.js';

/**
 * authorization.k8s.io/v1 SelfSubjectAccessReview and SelfSubjectRulesReview, answered
 * from the same authorizer as the requests themselves
 * (pkg/registry/authorization/selfsubjectaccessreview/rest.go,
 * pkg/registry/authorization/selfsubjectrulesreview/rest.go), and authentication.k8s.io/v1
 * SelfSubjectReview (`kubectl auth whoami`, pkg/registry/authentication/selfsubjectreview/rest.go).
 */

const GROUP = 'authorization.k8s.io';

function reviewBody(body: any, kind: string): any {
  if (!body || typeof body !== 'object') throw errors.badRequest('the request body must be a JSON object');
  if (body.kind !== undefined && body.kind !== kind) throw errors.badRequest(`the kind in the data (${body.kind}) does not match the expected kind (${kind})`);
  return body;
}

/** pkg/apis/authorization/validation `ValidateSelfSubjectAccessReviewSpec`. */
function validateAccessSpec(spec: any): void {
  const causes: StatusCause[] = [];
  const resource = spec?.resourceAttributes;
  const nonResource = spec?.nonResourceAttributes;
  if (!resource && !nonResource) {
    causes.push({ reason: 'FieldValueRequired', message: 'Required value: exactly one of nonResourceAttributes or resourceAttributes must be specified', field: 'spec.resourceAttributes' });
  } else if (resource && nonResource) {
    causes.push({ reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(nonResource)}: cannot be specified in combination with resourceAttributes`, field: 'spec.nonResourceAttributes' });
  }
  if (causes.length) throw errors.invalid('SelfSubjectAccessReview', '', causes, GROUP);
}

/** authorizationutil `ResourceAttributesFrom` / `NonResourceAttributesFrom`. */
function attributesOf(spec: any, auth: Auth, req: IncomingMessage): Attributes {
  const user = auth.userOf(req);
  const r = spec.resourceAttributes;
  if (r) {
    return { user, verb: r.verb ?? '', resourceRequest: true, path: '', apiGroup: r.group ?? '', apiVersion: r.version || '*', resource: r.resource ?? '', subresource: r.subresource ?? '', namespace: r.namespace ?? '', name: r.name ?? '' };
  }
  const n = spec.nonResourceAttributes;
  return { user, verb: n.verb ?? '', resourceRequest: false, path: n.path ?? '', apiGroup: '', apiVersion: '', resource: '', subresource: '', namespace: '', name: '' };
}

async function serveAccessReview(auth: Auth, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = reviewBody(await readJson(req), 'SelfSubjectAccessReview');
  validateAccessSpec(body.spec);
  const decision = auth.authorize(attributesOf(body.spec, auth, req));
  sendJson(res, 201, {
    kind: 'SelfSubjectAccessReview',
    apiVersion: `${GROUP}/v1`,
    metadata: { creationTimestamp: null },
    spec: body.spec,
    status: { allowed: decision.allowed, ...(decision.reason ? { reason: decision.reason } : {}) },
  });
}

async function serveRulesReview(auth: Auth, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = reviewBody(await readJson(req), 'SelfSubjectRulesReview');
  const namespace: string = body.spec?.namespace ?? '';
  const user = auth.userOf(req);
  const resourceRules: object[] = [];
  const nonResourceRules: object[] = [];
  let evaluationError = '';
  if (auth.mode === 'AlwaysAllow' || user.groups.includes(SYSTEM_MASTERS)) {
    // authorizerfactory's AlwaysAllow and privileged-group RulesFor: everything.
    resourceRules.push({ verbs: ['*'], apiGroups: ['*'], resources: ['*'] });
    nonResourceRules.push({ verbs: ['*'], nonResourceURLs: ['*'] });
  }
  if (auth.mode === 'RBAC') {
    const resolved = rulesFor(auth.store(), user, namespace);
    for (const { rule } of resolved.rules) {
      if (rule.resources?.length) resourceRules.push({ verbs: rule.verbs ?? [], apiGroups: rule.apiGroups ?? [], resources: rule.resources, ...(rule.resourceNames?.length ? { resourceNames: rule.resourceNames } : {}) });
      if (rule.nonResourceURLs?.length) nonResourceRules.push({ verbs: rule.verbs ?? [], nonResourceURLs: rule.nonResourceURLs });
    }
    if (resolved.errors.length) evaluationError = aggregate(resolved.errors);
  }
  sendJson(res, 201, {
    kind: 'SelfSubjectRulesReview',
    apiVersion: `${GROUP}/v1`,
    metadata: { creationTimestamp: null },
    spec: body.spec ?? {},
    status: { resourceRules, nonResourceRules, incomplete: false, ...(evaluationError ? { evaluationError } : {}) },
  });
}

async function serveSelfReview(auth: Auth, req: IncomingMessage, res: ServerResponse): Promise<void> {
  reviewBody(await readJson(req), 'SelfSubjectReview');
  const { name, uid, groups, extra } = auth.userOf(req);
  sendJson(res, 201, {
    kind: 'SelfSubjectReview',
    apiVersion: 'authentication.k8s.io/v1',
    metadata: { creationTimestamp: null },
    status: { userInfo: { username: name, ...(uid ? { uid } : {}), groups, ...(extra ? { extra } : {}) } },
  });
}

/** Whether the route is one of the create-only reviews. */
export function isReview(route: Route): boolean {
  return route.info.group === GROUP || route.info.group === 'authentication.k8s.io';
}

/** POST of a review; any other verb on them is 405, as for a create-only REST storage. */
export async function serveReview(auth: Auth, route: Route, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'POST' || route.name) throw errors.methodNotAllowed('the server does not allow this method on the requested resource');
  if (route.info.plural === 'selfsubjectaccessreviews') return serveAccessReview(auth, req, res);
  if (route.info.plural === 'selfsubjectreviews') return serveSelfReview(auth, req, res);
  return serveRulesReview(auth, req, res);
}
