import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Auth } from '../auth/auth.js';
import { isReview, serveReview } from '../auth/reviews.js';
import { faultError, type Faults } from '../faults.js';
import { validatePodLogOptions } from '../pod-log-options.js';
import type { Metrics } from '../metrics.js';
import { errors, StatusError } from '../status.js';
import type { HttpContext, Route } from './context.js';
import { serveDelete, serveDeleteCollection } from './deletion.js';
import { apiGroup, apiGroupList, apiResourceList, apiVersions, versionInfo } from './discovery.js';
import { getObject, serveCreate, serveGet, serveList, servePatch, serveUpdate } from './objects.js';
import { readJson, sendError, sendJson } from './respond.js';
import { parseRoute, verbOf } from './router.js';

/** The request handlers of one server: plain requests and WebSocket upgrades. */
export interface Handlers {
  request(req: IncomingMessage, res: ServerResponse): void;
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
}

export interface HandlerDeps {
  ctx: HttpContext;
  metrics: Metrics;
  faults: Faults;
  /** Authentication and authorization of every request (`--authorization-mode`). */
  auth: Auth;
  /** Called by `POST /debug/restart` after the response is sent. */
  restart?: () => void;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/**
 * exec/attach that is no WebSocket upgrade: a plain request, or SPDY/3.1, which this server does
 * not speak. Answered as the API server answers an exec/attach request that reaches it without
 * an upgrade (a proxy on the way that cannot carry SPDY): 400 "Upgrade request required"
 * (apimachinery pkg/util/proxy/upgradeaware.go UpgradeAwareHandler.ServeHTTP); kubectl prints
 * `Error from server (BadRequest): Upgrade request required`.
 */
const upgradeRequired = () => errors.badRequest('Upgrade request required');

/** Non-resource endpoints: discovery, health, metrics, debug controls. Returns false when not one. */
async function serveNonResource(deps: HandlerDeps, method: string, path: string, req: IncomingMessage, res: ServerResponse): Promise<boolean> {
  const text = (code: number, body: string, type = 'text/plain; charset=utf-8') => {
    res.writeHead(code, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  };
  if (path === '/healthz' || path === '/readyz' || path === '/livez') return text(200, 'ok'), true;
  if (path === '/version') return sendJson(res, 200, versionInfo(deps.ctx.profile)), true;
  if (path === '/api') return sendJson(res, 200, apiVersions(deps.ctx.serverAddress())), true;
  if (path === '/apis') return sendJson(res, 200, apiGroupList()), true;
  if (path === '/metrics' || path === '/metrics/reset') {
    if (method === 'DELETE' || (method === 'POST' && path === '/metrics/reset')) {
      deps.metrics.reset();
      return text(200, 'reset\n'), true;
    }
    return text(200, deps.metrics.toPrometheus(), 'text/plain; version=0.0.4'), true;
  }
  if (path === '/debug/faults') {
    if (method === 'POST') deps.faults.apply(((await readJson(req)) ?? {}) as object);
    if (method === 'DELETE') deps.faults.clear();
    return sendJson(res, 200, deps.faults.describe()), true;
  }
  if (path === '/debug/restart' && method === 'POST' && deps.restart) {
    const restart = deps.restart;
    res.on('finish', () => setImmediate(restart));
    return sendJson(res, 202, { restarting: true }), true;
  }
  const seg = path.split('/').filter(Boolean);
  if (seg[0] === 'api' && seg[1] === 'v1' && seg.length === 2) return sendJson(res, 200, apiResourceList('v1')), true;
  if (seg[0] === 'apis' && seg.length === 2) {
    const group = apiGroup(seg[1]!);
    if (group) return sendJson(res, 200, group), true;
  }
  if (seg[0] === 'apis' && seg.length === 3) {
    const list = apiResourceList(`${seg[1]}/${seg[2]}`);
    if (list) return sendJson(res, 200, list), true;
  }
  if (seg[0] !== 'api' && seg[0] !== 'apis') {
    sendError(res, new StatusError({ ...errors.notFound('', '').status, message: 'the server could not find the requested resource', details: {} }));
    return true;
  }
  return false;
}

async function serveResource(deps: HandlerDeps, route: Route, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { ctx } = deps;
  const method = req.method ?? 'GET';
  if (isReview(route)) return serveReview(deps.auth, route, req, res);
  if (route.subresource === 'log') {
    if (method !== 'GET') throw errors.methodNotAllowed('the server does not allow this method on the requested resource');
    // The options are validated before the pod is looked up (pkg/registry/core/pod/rest/log.go LogREST.Get).
    const logOptions = validatePodLogOptions(route.query, route.name!, ctx.profile.server);
    getObject(ctx, route);
    await ctx.node().log({ namespace: route.namespace!, name: route.name!, query: route.query, req, logOptions }, res);
    return;
  }
  if (route.subresource === 'exec' || route.subresource === 'attach') throw upgradeRequired();
  if (!route.name) {
    if (method === 'GET') return serveList(ctx, route, req, res);
    if (method === 'POST') return serveCreate(ctx, route, req, res);
    if (method === 'DELETE') return serveDeleteCollection(ctx, route, req, res);
    throw errors.methodNotAllowed('the server does not allow this method on the requested resource');
  }
  const watch = route.query.get('watch');
  if (method === 'GET' && !route.subresource && (watch === 'true' || watch === '1')) {
    // The old single-object watch URL: a collection watch narrowed to the name.
    const query = new URLSearchParams(route.query);
    const byName = `metadata.name=${route.name}`;
    query.set('fieldSelector', query.get('fieldSelector') ? `${query.get('fieldSelector')},${byName}` : byName);
    const { name: _name, ...collection } = route;
    return serveList(ctx, { ...collection, query }, req, res);
  }
  if (method === 'GET') return serveGet(ctx, route, req, res);
  if (method === 'PUT') return serveUpdate(ctx, route, req, res);
  if (method === 'PATCH') return servePatch(ctx, route, req, res);
  if (method === 'DELETE' && !route.subresource) return serveDelete(ctx, route, req, res);
  throw errors.methodNotAllowed('the server does not allow this method on the requested resource');
}

export function createHandlers(deps: HandlerDeps): Handlers {
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'https://localhost');
    const method = req.method ?? 'GET';
    const path = url.pathname;
    try {
      if (!path.startsWith('/debug/') && !path.startsWith('/metrics')) {
        const fault = deps.faults.pick(method, path, url.searchParams);
        if (fault?.kind === 'drop') {
          req.socket.destroy();
          return;
        }
        if (fault) throw faultError(fault);
        if (deps.faults.delayMs > 0) await delay(deps.faults.delayMs);
      }
      deps.auth.admit(req, method, path, url.searchParams);
      const route = parseRoute(path, url.searchParams);
      if (!route) {
        if (!(await serveNonResource(deps, method, path, req, res))) throw errors.notFound('', '');
        return;
      }
      deps.metrics.record(verbOf(method, route), route.info.plural, route.subresource ?? '', req.url ?? path);
      await serveResource(deps, route, req, res);
    } catch (error) {
      sendError(res, error);
    }
  };
  return {
    request(req, res) {
      void handle(req, res);
    },
    upgrade(req, socket, head) {
      const url = new URL(req.url ?? '/', 'https://localhost');
      const refuse = (error: unknown) => {
        const status = error instanceof StatusError ? error.status : errors.internal(String(error)).status;
        const body = JSON.stringify(status);
        const retry = status.details?.retryAfterSeconds !== undefined ? `Retry-After: ${status.details.retryAfterSeconds}\r\n` : '';
        socket.end(`HTTP/1.1 ${status.code} ${status.reason}\r\n${retry}Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
      };
      try {
        const fault = deps.faults.pick(req.method ?? 'GET', url.pathname, url.searchParams);
        if (fault?.kind === 'drop') {
          socket.destroy();
          return;
        }
        if (fault) throw faultError(fault);
        deps.auth.admit(req, req.method ?? 'GET', url.pathname, url.searchParams);
        const route = parseRoute(url.pathname, url.searchParams);
        if (!route || route.info.plural !== 'pods' || (route.subresource !== 'exec' && route.subresource !== 'attach')) {
          throw errors.badRequest('only pods/exec and pods/attach can be upgraded');
        }
        if (String(req.headers.upgrade).toLowerCase() !== 'websocket') throw upgradeRequired();
        deps.metrics.record('connect', 'pods', route.subresource, req.url);
        getObject(deps.ctx, route);
        const request = { namespace: route.namespace!, name: route.name!, query: url.searchParams, req };
        if (route.subresource === 'exec') deps.ctx.node().exec(request, socket, head);
        else deps.ctx.node().attach(request, socket, head);
      } catch (error) {
        refuse(error);
      }
    },
  };
}
