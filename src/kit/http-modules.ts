import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/**
 * `node:http` and `node:https`, loaded through `require` when first asked for. An `import` of
 * `node:http` builds its ES module facade, which reads every export, and the `WebSocket`,
 * `CloseEvent` and `MessageEvent` getters among them load the undici that Node bundles: about
 * 25 ms of CPU at every start that nothing here uses (docs/performance.md, P8). `require`
 * returns the same module objects without touching the getters; asked for on use, neither
 * weighs on an import of a driver (https alone loads TLS: ~7 ms).
 */
export function nodeHttp(): typeof import('node:http') {
  return require('node:http') as typeof import('node:http');
}

/** `node:https`, as {@link nodeHttp}. */
export function nodeHttps(): typeof import('node:https') {
  return require('node:https') as typeof import('node:https');
}
