import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/**
 * `node:http` and `node:https`, loaded through `require`. An `import` of `node:http` builds
 * its ES module facade, which reads every export, and the `WebSocket`, `CloseEvent` and
 * `MessageEvent` getters among them load the undici that Node bundles: about 25 ms of CPU
 * at every start that nothing here uses (docs/performance.md, P8). `require` returns the
 * same module objects without touching the getters.
 */
export const http = require('node:http') as typeof import('node:http');
export const https = require('node:https') as typeof import('node:https');
