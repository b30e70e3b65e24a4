import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { NODE_LABELS } from '../k8s-server/node/kubelet/labels.js';

const doc = readFileSync(new URL('../../docs/local-cluster.md', import.meta.url), 'utf8');

describe('docs/local-cluster.md', () => {
  it('names the label every container and volume of the local cluster carries, and the others by name', () => {
    expect(doc).toContain(`\`${NODE_LABELS.instance}=<id>\``);
    for (const label of Object.values(NODE_LABELS)) expect(doc).toContain(label.slice(label.indexOf('/') + 1));
  });
});
