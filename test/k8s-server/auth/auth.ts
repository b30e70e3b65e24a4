import type { IncomingMessage } from 'node:http';
import type { StoreApi } from '../api.js';
import { requestAttributes, type Attributes } from './attributes.js';
import { forbidden, forbiddenResponse, unauthorized, type Decision } from './forbidden.js';
import { impersonate } from './impersonation.js';
import { rbacAuthorize } from './rbac.js';
import { TokenFile, ADMIN_USER } from './tokens.js';
import { anonymousUser, AUTHENTICATED, SYSTEM_MASTERS, withGroup, type UserInfo } from './user.js';

/**
 * Authentication, impersonation and authorization of every request, in the order of
 * the real filter chain (k8s.io/apiserver/pkg/server/config.go DefaultBuildHandlerChain:
 * WithAuthentication, WithImpersonation, WithAuthorization).
 */

/** kube-apiserver's `--authorization-mode`: AlwaysAllow, or RBAC (behind the system:masters short-circuit). */
export type AuthorizationMode = 'AlwaysAllow' | 'RBAC';

export interface AuthOptions {
  mode: AuthorizationMode;
  stateDir: string;
  store: () => StoreApi;
  /**
   * Whether a WebSocket upgrade of pods/exec and pods/attach (a GET, authorized as `get`)
   * must also be allowed `create`: Kubernetes 1.35's AuthorizePodWebsocketUpgradeCreatePermission.
   */
  upgradeRequiresCreate: () => boolean;
}

/** The bearer token of a request: `Authorization: Bearer …`, or the WebSocket subprotocol form browsers use. */
function bearerToken(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  if (header) {
    const [scheme, token] = header.trim().split(/\s+/, 3);
    if (scheme?.toLowerCase() === 'bearer' && token) return token;
  }
  // websocket/protocol.go: base64url.bearer.authorization.k8s.io.<base64url token>
  for (const protocol of String(req.headers['sec-websocket-protocol'] ?? '').split(',')) {
    const match = /^\s*base64url\.bearer\.authorization\.k8s\.io\.([A-Za-z0-9_-]+)\s*$/.exec(protocol);
    if (match) return Buffer.from(match[1]!, 'base64url').toString('utf8');
  }
  return undefined;
}

const CONNECT_SUBRESOURCES = new Set(['exec', 'attach', 'portforward']);

export class Auth {
  readonly tokens: TokenFile;
  private readonly users = new WeakMap<IncomingMessage, UserInfo>();

  constructor(private readonly options: AuthOptions) {
    this.tokens = new TokenFile(options.stateDir);
  }

  get mode(): AuthorizationMode {
    return this.options.mode;
  }

  /** The store the RBAC objects are read from. */
  store(): StoreApi {
    return this.options.store();
  }

  /**
   * The bearer token's user with system:authenticated added; system:anonymous without
   * one; 401 for a token nobody issued. With AlwaysAllow any token is the administrator.
   */
  authenticate(req: IncomingMessage): UserInfo {
    const token = bearerToken(req);
    if (token === undefined) return this.mode === 'RBAC' ? anonymousUser() : withGroup(ADMIN_USER, AUTHENTICATED);
    const user = this.tokens.lookup(token);
    if (!user) {
      if (this.mode !== 'RBAC') return withGroup(ADMIN_USER, AUTHENTICATED);
      throw unauthorized();
    }
    return withGroup(user, AUTHENTICATED);
  }

  /** The union of system:masters (privileged groups) and RBAC, or AlwaysAllow (kubeapiserver/authorizer/config.go). */
  authorize(a: Attributes): Decision {
    if (this.mode === 'AlwaysAllow') return { allowed: true, reason: '' };
    if (a.user.groups.includes(SYSTEM_MASTERS)) return { allowed: true, reason: '' };
    return rbacAuthorize(this.options.store(), a);
  }

  /**
   * Admits a request or throws its 401/403: authentication, impersonation headers,
   * authorization of the resulting user; for a connect upgrade from 1.35 also `create`
   * (pkg/registry/core/pod/rest/authorize.go `ensureAuthorizedForVerb`). Returns the user.
   */
  admit(req: IncomingMessage, method: string, path: string, query: URLSearchParams): UserInfo {
    const requestor = this.authenticate(req);
    const user = impersonate(req.headers, requestor, (a) => this.authorize(a));
    const attributes = requestAttributes(user, method, path, query);
    const decision = this.authorize(attributes);
    if (!decision.allowed) throw forbiddenResponse(attributes, decision.reason);
    const upgrade = String(req.headers.upgrade ?? '').toLowerCase() === 'websocket';
    if (upgrade && attributes.resource === 'pods' && CONNECT_SUBRESOURCES.has(attributes.subresource) && attributes.verb !== 'create' && this.options.upgradeRequiresCreate()) {
      const create = this.authorize({ ...attributes, verb: 'create' });
      if (!create.allowed) throw forbidden(attributes.apiGroup, attributes.resource, attributes.name, create.reason);
    }
    this.users.set(req, user);
    return user;
  }

  /** The user a request was admitted as. */
  userOf(req: IncomingMessage): UserInfo {
    return this.users.get(req) ?? anonymousUser();
  }
}
