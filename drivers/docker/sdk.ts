import Module, { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type Dockerode from 'dockerode';
import { MissingDependencyError } from '../../src/errors.js';

const require = createRequire(import.meta.url);

/**
 * Parts of dockerode that a run never reaches, which it nevertheless loads at `require`:
 * BuildKit sessions (`lib/session.js`: @grpc/grpc-js, @grpc/proto-loader, protobufjs;
 * only `buildImage` with a session uses it) and docker-modem's `ssh://` transport
 * (`lib/ssh.js`: ssh2). Each is a module exporting one function, so a stand-in that loads
 * the real module on its first call behaves the same. Together they are ~80 ms of CPU and
 * ~23 MB of RSS of the ~135 ms and ~36 MB dockerode costs (docs/performance.md, Imports).
 */
const DEFERRED_PARTS: ReadonlyArray<{ pkg: string; from?: string; file: string }> = [
  { pkg: 'dockerode', file: 'lib/session.js' },
  { pkg: 'docker-modem', from: 'dockerode', file: 'lib/ssh.js' },
];

let loaded: typeof Dockerode | undefined;

/**
 * dockerode's `Docker` class, required on first use (a process that imports the driver and
 * never runs a task loads no SDK), with the parts listed in {@link DEFERRED_PARTS} loaded
 * only when called. Throws {@link MissingDependencyError} when dockerode is not installed.
 */
export function dockerodeClass(): typeof Dockerode {
  if (loaded !== undefined) return loaded;
  const root = dockerodeRoot();
  for (const part of DEFERRED_PARTS) deferModule(part.from === undefined ? root : packageDir(part.pkg, root), part.file);
  loaded = require('dockerode') as typeof Dockerode;
  return loaded;
}

/**
 * The folder dockerode is installed in, found without loading it (the driver checks this
 * when it is created). Throws {@link MissingDependencyError} when it is not installed.
 */
export function dockerodeRoot(): string {
  try {
    return dirname(require.resolve('dockerode/package.json'));
  } catch (error) {
    throw new MissingDependencyError('the docker driver', 'dockerode', { cause: error });
  }
}

/** The folder of `pkg` as `from`'s own `require` finds it, or undefined when it cannot be found. */
function packageDir(pkg: string, from: string): string | undefined {
  try {
    return dirname(createRequire(join(from, 'package.json')).resolve(`${pkg}/package.json`));
  } catch {
    return undefined;
  }
}

/**
 * Puts a stand-in for the CommonJS module `dir/file` in the require cache, unless the module
 * is missing or already loaded. The stand-in's export is a function that requires the real
 * module on first call and calls it; a dockerode whose layout differs simply loads as usual.
 */
function deferModule(dir: string | undefined, file: string): void {
  if (dir === undefined) return;
  const path = join(dir, file);
  if (require.cache[path] !== undefined) return;
  try {
    if (require.resolve(path) !== path) return;
  } catch {
    return;
  }
  let real: ((...args: unknown[]) => unknown) | undefined;
  const standIn = new Module(path);
  standIn.filename = path;
  standIn.loaded = true;
  standIn.exports = function deferred(this: unknown, ...args: unknown[]): unknown {
    if (real === undefined) {
      if (require.cache[path] === standIn) delete require.cache[path];
      real = require(path) as (...args: unknown[]) => unknown;
    }
    return real.apply(this, args);
  };
  require.cache[path] = standIn;
}
