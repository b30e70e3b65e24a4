import { errors } from '../status.js';

/**
 * PATCH bodies. Merge patch (RFC 7386) also serves strategic merge patch: lists are
 * replaced whole instead of merged by key, which is enough for the fields clients patch.
 */

export function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return structuredClone(patch);
  const base: Record<string, unknown> = target !== null && typeof target === 'object' && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [key, value] of Object.entries(patch as Record<string, unknown>)) {
    if (key.startsWith('$')) continue; // strategic-merge directives ($patch, $retainKeys, …)
    if (value === null) delete base[key];
    else base[key] = mergePatch(base[key], value);
  }
  return base;
}

function pointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw errors.badRequest(`invalid JSON pointer: ${path}`);
  return path
    .slice(1)
    .split('/')
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function parentOf(doc: any, parts: string[]): { parent: any; key: string } {
  let current = doc;
  for (const part of parts.slice(0, -1)) {
    current = current?.[Array.isArray(current) ? Number(part) : part];
    if (current === undefined || current === null) throw errors.badRequest(`jsonpatch: path not found: /${parts.join('/')}`);
  }
  return { parent: current, key: parts[parts.length - 1]! };
}

function getAt(doc: any, parts: string[]): any {
  let current = doc;
  for (const part of parts) current = current?.[part];
  return current;
}

/** RFC 6902 JSON patch: add, remove, replace, move, copy, test. */
export function jsonPatch(document: unknown, operations: unknown): unknown {
  if (!Array.isArray(operations)) throw errors.badRequest('json patch must be a list of operations');
  const doc = structuredClone(document) as any;
  for (const op of operations as any[]) {
    const parts = pointer(String(op?.path ?? ''));
    if (parts.length === 0) throw errors.badRequest('jsonpatch: cannot patch the document root');
    const set = (at: string[], value: unknown, insert: boolean) => {
      const { parent, key } = parentOf(doc, at);
      if (Array.isArray(parent)) {
        const index = key === '-' ? parent.length : Number(key);
        if (insert) parent.splice(index, 0, value);
        else parent[index] = value;
      } else parent[key] = value;
    };
    const remove = (at: string[]) => {
      const { parent, key } = parentOf(doc, at);
      if (Array.isArray(parent)) parent.splice(Number(key), 1);
      else if (parent && key in parent) delete parent[key];
      else throw errors.badRequest(`jsonpatch remove operation does not apply: doc is missing key: /${at.join('/')}`);
    };
    switch (op.op) {
      case 'add':
        set(parts, structuredClone(op.value), true);
        break;
      case 'replace':
        if (getAt(doc, parts) === undefined) throw errors.badRequest(`jsonpatch replace operation does not apply: doc is missing key: ${op.path}`);
        set(parts, structuredClone(op.value), false);
        break;
      case 'remove':
        remove(parts);
        break;
      case 'move':
      case 'copy': {
        const from = pointer(String(op.from ?? ''));
        const value = structuredClone(getAt(doc, from));
        if (op.op === 'move') remove(from);
        set(parts, value, true);
        break;
      }
      case 'test':
        if (JSON.stringify(getAt(doc, parts)) !== JSON.stringify(op.value)) throw errors.invalid('Patch', '', [{ reason: 'FieldValueInvalid', message: 'test operation failed', field: op.path }]);
        break;
      default:
        throw errors.badRequest(`Unexpected kind: ${String(op?.op)}`);
    }
  }
  return doc;
}

/** Applies a PATCH body by its Content-Type; unsupported types → 415. */
export function applyPatch(contentType: string | undefined, document: unknown, body: unknown): unknown {
  const type = (contentType ?? '').split(';')[0]!.trim();
  if (type === 'application/json-patch+json') return jsonPatch(document, body);
  if (type === 'application/merge-patch+json' || type === 'application/strategic-merge-patch+json' || type === 'application/apply-patch+yaml') {
    return mergePatch(document, body);
  }
  throw Object.assign(errors.badRequest(`the server does not support patch content type ${type}`), {});
}
