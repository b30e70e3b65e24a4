import { findResource } from '../resources.js';
import { errors } from '../status.js';
import type { Route } from './context.js';

/**
 * Parses resource URLs: `/api/v1/[namespaces/{ns}/]{plural}[/{name}[/{sub}]]` and
 * `/apis/{group}/{version}/…`. Returns undefined for URLs that are not resource URLs.
 */
export function parseRoute(pathname: string, query: URLSearchParams): Route | undefined {
  const seg = pathname.split('/').filter(Boolean).map(decodeURIComponent);
  let group: string;
  let version: string;
  let rest: string[];
  if (seg[0] === 'api' && seg[1] === 'v1' && seg.length > 2) {
    [group, version, rest] = ['', 'v1', seg.slice(2)];
  } else if (seg[0] === 'apis' && seg.length > 3) {
    [group, version, rest] = [seg[1]!, seg[2]!, seg.slice(3)];
  } else return undefined;

  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    const inner = findResource(group, version, rest[2]!);
    if (inner?.namespaced) {
      namespace = rest[1];
      rest = rest.slice(2);
    }
  }
  const info = findResource(group, version, rest[0]!);
  if (!info) throw errors.notFound(rest[0] ?? '', '', group || undefined);
  if (rest.length > 3) throw errors.notFound(info.plural, rest[1] ?? '', group || undefined);
  const [, name, subresource] = rest;
  if (subresource !== undefined && !info.subresources.includes(subresource)) {
    throw errors.notFound(`${info.plural}/${subresource}`, name ?? '', group || undefined);
  }
  return { info, query, ...(namespace !== undefined ? { namespace } : {}), ...(name !== undefined ? { name } : {}), ...(subresource !== undefined ? { subresource } : {}) };
}

/** The Kubernetes verb of a request, as audit and metrics name it. */
export function verbOf(method: string, route: Route | undefined): string {
  const watch = route?.query.get('watch');
  if (route?.subresource === 'exec' || route?.subresource === 'attach') return 'connect';
  switch (method) {
    case 'GET':
      if (watch === 'true' || watch === '1') return 'watch';
      return !route || route.name ? 'get' : 'list';
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return route?.name ? 'delete' : 'deletecollection';
    default:
      return method.toLowerCase();
  }
}
