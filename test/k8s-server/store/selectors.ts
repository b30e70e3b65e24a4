import type { KObject } from '../api.js';
import { errors } from '../status.js';

/**
 * Label and field selectors in Kubernetes syntax. Parsing throws a 400 StatusError,
 * so a bad selector from a client becomes the same error a real server gives.
 */

type LabelRequirement =
  | { op: 'exists' | 'notexists'; key: string }
  | { op: 'in' | 'notin'; key: string; values: string[] }
  | { op: 'gt' | 'lt'; key: string; value: number };

export type LabelMatcher = (labels: Record<string, string> | undefined) => boolean;

const KEY = '[A-Za-z0-9][-A-Za-z0-9_./]*';
const VALUE = '[-A-Za-z0-9_.]*';

/** Splits on commas outside parentheses. */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else current += ch;
  }
  parts.push(current);
  return parts.map((p) => p.trim()).filter((p) => p !== '');
}

function parseRequirement(text: string): LabelRequirement {
  let m = new RegExp(`^!\\s*(${KEY})$`).exec(text);
  if (m) return { op: 'notexists', key: m[1]! };
  m = new RegExp(`^(${KEY})\\s+(in|notin)\\s*\\(([^()]*)\\)$`).exec(text);
  if (m) {
    const values = m[3]!.split(',').map((v) => v.trim());
    if (values.some((v) => !new RegExp(`^${VALUE}$`).test(v))) throw errors.badRequest(`unable to parse requirement: ${text}`);
    return { op: m[2] as 'in' | 'notin', key: m[1]!, values };
  }
  m = new RegExp(`^(${KEY})\\s*(==|=|!=)\\s*(${VALUE})$`).exec(text);
  if (m) return { op: m[2] === '!=' ? 'notin' : 'in', key: m[1]!, values: [m[3]!] };
  m = new RegExp(`^(${KEY})\\s*([<>])\\s*(-?\\d+)$`).exec(text);
  if (m) return { op: m[2] === '>' ? 'gt' : 'lt', key: m[1]!, value: Number(m[3]) };
  m = new RegExp(`^(${KEY})$`).exec(text);
  if (m) return { op: 'exists', key: m[1]! };
  throw errors.badRequest(`unable to parse requirement: found '${text}', expected a valid label selector`);
}

function matches(req: LabelRequirement, labels: Record<string, string>): boolean {
  const has = Object.prototype.hasOwnProperty.call(labels, req.key);
  const value = labels[req.key];
  switch (req.op) {
    case 'exists':
      return has;
    case 'notexists':
      return !has;
    case 'in':
      return has && req.values.includes(value!);
    case 'notin':
      return !has || !req.values.includes(value!);
    case 'gt':
    case 'lt': {
      if (!has || !/^-?\d+$/.test(value!)) return false;
      return req.op === 'gt' ? Number(value) > req.value : Number(value) < req.value;
    }
  }
}

/** Parses a labelSelector; empty or undefined matches everything. */
export function parseLabelSelector(selector: string | undefined | null): LabelMatcher {
  if (!selector) return () => true;
  const requirements = splitTopLevel(selector).map(parseRequirement);
  return (labels) => requirements.every((r) => matches(r, labels ?? {}));
}

/** A metav1.LabelSelector in object form (`matchLabels` and `matchExpressions`). */
export interface LabelSelectorObject {
  matchLabels?: Record<string, string>;
  matchExpressions?: Array<{ key: string; operator: string; values?: string[] }>;
}

/**
 * The matcher of a LabelSelector object, as apimachinery's `LabelSelectorAsSelector`
 * (pkg/apis/meta/v1/helpers.go) builds it: every matchLabels pair and every expression
 * (In, NotIn, Exists, DoesNotExist) must hold. An empty selector matches everything.
 */
export function labelSelectorMatcher(selector: LabelSelectorObject): LabelMatcher {
  const requirements: LabelRequirement[] = Object.entries(selector.matchLabels ?? {}).map(([key, value]) => ({ op: 'in', key, values: [value] }));
  for (const expression of selector.matchExpressions ?? []) {
    const op = ({ In: 'in', NotIn: 'notin', Exists: 'exists', DoesNotExist: 'notexists' } as const)[expression.operator];
    if (op === undefined) throw errors.badRequest(`"${expression.operator}" is not a valid label selector operator`);
    requirements.push(op === 'exists' || op === 'notexists' ? { op, key: expression.key } : { op, key: expression.key, values: expression.values ?? [] });
  }
  return (labels) => requirements.every((r) => matches(r, labels ?? {}));
}

/** Field labels each resource supports, as the real registries declare them. */
const COMMON_FIELDS = ['metadata.name', 'metadata.namespace'];
const FIELDS: Record<string, string[]> = {
  pods: ['spec.nodeName', 'spec.restartPolicy', 'spec.schedulerName', 'spec.serviceAccountName', 'spec.hostNetwork', 'status.phase', 'status.podIP', 'status.nominatedNodeName'],
  events: [
    'involvedObject.kind',
    'involvedObject.namespace',
    'involvedObject.name',
    'involvedObject.uid',
    'involvedObject.apiVersion',
    'involvedObject.resourceVersion',
    'involvedObject.fieldPath',
    'reason',
    'reportingComponent',
    'source',
    'type',
  ],
  jobs: ['status.successful'],
  namespaces: ['status.phase'],
  persistentvolumeclaims: [],
  secrets: ['type'],
};

/** The string value of a field label on an object (missing → ''). */
function fieldValue(object: KObject, field: string): string {
  if (field === 'source') return String((object as any).source?.component ?? '');
  let current: any = object;
  for (const part of field.split('.')) current = current?.[part];
  if (current === undefined || current === null) return '';
  return String(current);
}

export type FieldMatcher = (object: KObject) => boolean;

/** Parses a fieldSelector for `resource`; unknown field labels → 400. */
export function parseFieldSelector(resource: string, selector: string | undefined | null): FieldMatcher {
  if (!selector) return () => true;
  const supported = [...COMMON_FIELDS, ...(FIELDS[resource] ?? [])];
  const terms = selector
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '')
    .map((term) => {
      const m = /^([^=!]+?)\s*(==|=|!=)\s*(.*)$/.exec(term);
      if (!m) throw errors.badRequest(`invalid selector: '${selector}'; can't understand '${term}'`);
      const field = m[1]!.trim();
      if (!supported.includes(field)) throw errors.badRequest(`field label not supported: ${field}`);
      return { field, negate: m[2] === '!=', value: m[3]!.trim() };
    });
  return (object) => terms.every((t) => (fieldValue(object, t.field) === t.value) !== t.negate);
}
