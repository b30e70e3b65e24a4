/**
 * The attributes an authorizer decides on, read from the request as
 * k8s.io/apiserver/pkg/endpoints/request/requestinfo.go `NewRequestInfo` reads
 * them: from the URL and method alone, before anything knows whether the resource
 * exists.
 */

import type { UserInfo } from './user.js';

export interface Attributes {
  user: UserInfo;
  verb: string;
  /** False for non-resource URLs (`/version`, `/api`, `/healthz`, …). */
  resourceRequest: boolean;
  path: string;
  apiGroup: string;
  apiVersion: string;
  resource: string;
  subresource: string;
  namespace: string;
  name: string;
}

const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize']);

const METHOD_VERBS: Record<string, string> = { POST: 'create', GET: 'get', HEAD: 'get', PUT: 'update', PATCH: 'patch', DELETE: 'delete' };

function isWatch(query: URLSearchParams): boolean {
  const value = query.get('watch');
  return value !== null && value.toLowerCase() !== 'false' && value !== '0';
}

/** The object name a list/watch narrows to with `fieldSelector=metadata.name=<name>` (RequiresExactMatch). */
function exactName(query: URLSearchParams): string {
  const selector = query.get('fieldSelector');
  if (!selector) return '';
  for (const term of selector.split(',')) {
    const match = /^\s*metadata\.name\s*(==|=)\s*([^,!=\s]+)\s*$/.exec(term);
    if (match) return match[2]!;
  }
  return '';
}

export function requestAttributes(user: UserInfo, method: string, path: string, query: URLSearchParams): Attributes {
  const info: Attributes = { user, verb: method.toLowerCase(), resourceRequest: false, path, apiGroup: '', apiVersion: '', resource: '', subresource: '', namespace: '', name: '' };
  let parts = path.split('/').filter(Boolean).map((p) => {
    try {
      return decodeURIComponent(p);
    } catch {
      return p;
    }
  });
  if (parts.length < 3 || (parts[0] !== 'api' && parts[0] !== 'apis')) return info;
  const grouped = parts[0] === 'apis';
  parts = parts.slice(1);
  if (grouped) {
    if (parts.length < 3) return info;
    info.apiGroup = parts[0]!;
    parts = parts.slice(1);
  }
  info.resourceRequest = true;
  info.apiVersion = parts[0]!;
  parts = parts.slice(1);
  if (parts[0] === 'watch' && parts.length >= 2) {
    info.verb = 'watch';
    parts = parts.slice(1);
  } else {
    info.verb = METHOD_VERBS[method.toUpperCase()] ?? '';
  }
  if (parts[0] === 'namespaces' && parts.length > 1) {
    info.namespace = parts[1]!;
    if (parts.length > 2 && !NAMESPACE_SUBRESOURCES.has(parts[2]!)) parts = parts.slice(2);
  }
  info.resource = parts[0] ?? '';
  info.name = parts[1] ?? '';
  info.subresource = parts[2] ?? '';
  if (!info.name && info.verb === 'get') {
    info.verb = isWatch(query) ? 'watch' : 'list';
    info.name = exactName(query);
  }
  if (!info.name && info.verb === 'delete') info.verb = 'deletecollection';
  return info;
}
