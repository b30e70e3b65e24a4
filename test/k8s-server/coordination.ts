import type { KObject } from './api.js';
import { errors } from './status.js';
import type { Causes } from './validation.js';

/**
 * coordination.k8s.io/v1 Leases: what decoding and validation ask of them.
 *
 * - `spec.acquireTime` and `spec.renewTime` are `MicroTime`s (apimachinery
 *   pkg/apis/meta/v1/micro_time.go, `UnmarshalJSON`): parsed with the layout
 *   `RFC3339Micro` = `2006-01-02T15:04:05.000000Z07:00`, so exactly six fractional digits
 *   (Go's fixed `.000000` takes no more, no fewer); anything else fails the body's decoding,
 *   a 400 `… cannot be handled as a Lease: parsing time …`. `MarshalJSON` writes them back in
 *   UTC with six digits, as this server stores them.
 * - `spec.leaseDurationSeconds` and `spec.leaseTransitions` are int32s: a number with a
 *   fraction or out of range fails decoding too.
 * - Validation: pkg/apis/coordination/validation/validation.go, `ValidateLease` (name a DNS
 *   subdomain, `ValidateObjectMeta`) and `ValidateLeaseSpec`.
 */

export const RFC3339_MICRO = '2006-01-02T15:04:05.000000Z07:00';
const MICRO_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.(\d{6})(Z|[+-]\d{2}:\d{2})$/;

/** The strategies `ValidateCoordinatedLeaseStrategy` knows by a bare name (`validLeaseStrategies`). */
const LEASE_STRATEGIES = ['OldestEmulationVersion'];
const QUALIFIED_NAME = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

/** Decodes a Lease body as the API server's JSON decoder would: MicroTimes normalised, int32s checked (400 otherwise). */
export function decodeLease(lease: KObject): void {
  const spec = lease.spec;
  if (spec === undefined || spec === null) return;
  if (typeof spec !== 'object') throw cannotDecode(`json: cannot unmarshal ${typeof spec} into Go struct field Lease.spec of type v1.LeaseSpec`);
  for (const field of ['acquireTime', 'renewTime']) {
    if (spec[field] === null) delete spec[field];
    else if (spec[field] !== undefined) spec[field] = microTime(spec[field]);
  }
  for (const field of ['leaseDurationSeconds', 'leaseTransitions']) {
    const value = spec[field];
    if (value === undefined || value === null) continue;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < -(2 ** 31) || value >= 2 ** 31) {
      throw cannotDecode(`json: cannot unmarshal ${typeof value === 'number' ? `number ${value}` : typeof value} into Go struct field LeaseSpec.spec.${field} of type int32`);
    }
  }
}

/** A MicroTime as `MarshalJSON` writes it: UTC, six fractional digits. */
function microTime(value: unknown): string {
  if (typeof value !== 'string') throw cannotDecode(`json: cannot unmarshal ${typeof value} into Go value of type string`);
  const match = MICRO_TIME.exec(value);
  if (match === null) throw cannotDecode(`parsing time ${JSON.stringify(value)} as ${JSON.stringify(RFC3339_MICRO)}: cannot parse ${JSON.stringify(unparsed(value))} as ${JSON.stringify(expectedPart(value))}`);
  const millis = Date.parse(`${value.slice(0, 19)}${match[8]}`);
  if (!Number.isFinite(millis)) throw cannotDecode(`parsing time ${JSON.stringify(value)}: day out of range`);
  return `${new Date(millis).toISOString().slice(0, 19)}.${match[7]}Z`;
}

/** What Go's parser stops at: from the fraction on when the seconds are well-formed, else the whole value. */
function unparsed(value: string): string {
  return /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}/.test(value) ? value.slice(19) : value;
}

function expectedPart(value: string): string {
  return /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}/.test(value) ? '.000000' : RFC3339_MICRO;
}

function cannotDecode(detail: string): Error {
  return errors.badRequest(`Lease in version "v1" cannot be handled as a Lease: ${detail}`);
}

/** `ValidateLeaseSpec`. */
export function checkLeaseSpec(causes: Causes, spec: any): void {
  if (spec === undefined || spec === null) return;
  if (typeof spec.leaseDurationSeconds === 'number' && spec.leaseDurationSeconds <= 0) causes.invalid('spec.leaseDurationSeconds', spec.leaseDurationSeconds, 'must be greater than 0');
  if (typeof spec.leaseTransitions === 'number' && spec.leaseTransitions < 0) causes.invalid('spec.leaseTransitions', spec.leaseTransitions, 'must be greater than or equal to 0');
  if (spec.strategy !== undefined && spec.strategy !== null) {
    const strategy = String(spec.strategy);
    if (!strategy.includes('/')) {
      if (!LEASE_STRATEGIES.includes(strategy)) causes.notSupported('spec.strategy.strategy', strategy, LEASE_STRATEGIES);
    } else if (!QUALIFIED_NAME.test(strategy) || strategy.length > 316) {
      causes.invalid('spec.strategy.strategy', strategy, "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')");
    }
  }
  if (typeof spec.preferredHolder === 'string' && spec.preferredHolder !== '' && (spec.strategy === undefined || spec.strategy === null || spec.strategy === '')) {
    causes.forbidden('spec.preferredHolder', 'may only be specified if `strategy` is defined');
  }
}
