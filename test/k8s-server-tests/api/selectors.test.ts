import { describe, expect, it } from 'vitest';
import type { KObject } from '../../k8s-server/api.js';
import { jsonPatch, mergePatch } from '../../k8s-server/http/patch.js';
import { parseFieldSelector, parseLabelSelector } from '../../k8s-server/store/selectors.js';
import { StatusError } from '../../k8s-server/status.js';

const labels = { app: 'web', tier: 'front', n: '7', empty: '' };

describe('label selectors', () => {
  it.each([
    ['', true],
    ['app=web', true],
    ['app==web', true],
    ['app!=web', false],
    ['app in (web, db)', true],
    ['app notin (web)', false],
    ['missing notin (x)', true],
    ['tier', true],
    ['!tier', false],
    ['!missing', true],
    ['n>5', true],
    ['n<5', false],
    ['app=web,tier=back', false],
    ['app=web, tier in (front,back), !missing', true],
    ['empty=', true],
    ['example.com/key', false],
  ])('%j matches: %s', (selector, expected) => {
    expect(parseLabelSelector(selector)(labels)).toBe(expected);
  });

  it.each(['app=(', 'in (a)', 'app in a', '=x'])('%j is a 400 BadRequest', (selector) => {
    try {
      parseLabelSelector(selector);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(StatusError);
      expect((error as StatusError).code).toBe(400);
    }
  });
});

describe('field selectors', () => {
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'ns' }, spec: { nodeName: 'local-node', restartPolicy: 'Never' }, status: { phase: 'Running' } } as unknown as KObject;
  it.each([
    ['metadata.name=p', true],
    ['metadata.name!=p', false],
    ['status.phase=Running,spec.nodeName=local-node', true],
    ['spec.restartPolicy==Always', false],
    ['status.podIP=', true],
  ])('%j matches: %s', (selector, expected) => {
    expect(parseFieldSelector('pods', selector)(pod)).toBe(expected);
  });

  it('names an unsupported field label', () => {
    expect(() => parseFieldSelector('pods', 'spec.image=x')).toThrow('field label not supported: spec.image');
    expect(() => parseFieldSelector('configmaps', 'status.phase=x')).toThrow('field label not supported: status.phase');
  });
});

describe('patches', () => {
  it('merge patch: null deletes, objects merge, lists replace', () => {
    const doc = { a: { b: 1, c: 2 }, list: [1, 2], keep: true };
    expect(mergePatch(doc, { a: { b: null, d: 3 }, list: [9] })).toEqual({ a: { c: 2, d: 3 }, list: [9], keep: true });
  });

  it('JSON patch: add, replace, remove, test', () => {
    const doc = { metadata: { labels: { a: '1' } }, spec: { list: [1, 2] } };
    const out = jsonPatch(doc, [
      { op: 'add', path: '/metadata/labels/b', value: '2' },
      { op: 'replace', path: '/metadata/labels/a', value: 'x' },
      { op: 'add', path: '/spec/list/-', value: 3 },
      { op: 'remove', path: '/spec/list/0' },
      { op: 'test', path: '/metadata/labels/b', value: '2' },
    ]);
    expect(out).toEqual({ metadata: { labels: { a: 'x', b: '2' } }, spec: { list: [2, 3] } });
    expect(() => jsonPatch(doc, [{ op: 'test', path: '/metadata/labels/a', value: 'no' }])).toThrow(StatusError);
  });
});
