#!/usr/bin/env node
/**
 * The `drivetrain` executable. It turns on Node's on-disk compile cache before the CLI
 * and its SDKs (dockerode, @kubernetes/client-node) are loaded, so every start after the
 * first reuses their compiled code instead of compiling it again. The cache lives in
 * `NODE_COMPILE_CACHE`, else in the system's temporary directory; when it cannot be
 * written, the CLI runs without it.
 */
import { enableCompileCache } from 'node:module';

enableCompileCache();
// Loaded only now: a static import would be evaluated before the cache is on.
await import('./main.js');
