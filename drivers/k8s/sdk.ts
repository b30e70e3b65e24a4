import { createRequire } from 'node:module';
import { MissingDependencyError } from '../../src/errors.js';

/** The module namespace of @kubernetes/client-node. */
export type ClientNode = typeof import('@kubernetes/client-node');

const require = createRequire(import.meta.url);
let loaded: ClientNode | undefined;

/**
 * @kubernetes/client-node, loaded on first use: its generated models and API classes and its
 * auth plugins are ~400 ms of CPU and ~80 MB of RSS, which a process that imports
 * `drivetrain/k8s` without creating a driver never pays (docs/performance.md, Imports). It is
 * an ES module without top-level await, so `require` loads it synchronously, as the same
 * instance an `import` of it gets. Throws `MissingDependencyError` when it is not installed.
 */
export function clientNode(): ClientNode {
  if (loaded !== undefined) return loaded;
  try {
    require.resolve('@kubernetes/client-node/package.json');
  } catch (error) {
    throw new MissingDependencyError('the k8s driver', '@kubernetes/client-node', { cause: error });
  }
  loaded = require('@kubernetes/client-node') as ClientNode;
  return loaded;
}
