import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * What importing a driver loads, seen from a fresh Node process on the compiled build
 * (`make test` builds it first): the driver entry points load no SDK until a driver needs
 * it, and dockerode comes without its BuildKit session (gRPC) and ssh transport, which
 * load when first called.
 */
const DIST = fileURLToPath(new URL('../../dist/', import.meta.url));

/** Runs `script` (an ES module) in a fresh process that records every module it loads; returns its stdout. */
function inFreshProcess(script: string): string {
  const hook = `import { registerHooks } from 'node:module'; globalThis.loadedModules = []; registerHooks({ load(url, context, next) { globalThis.loadedModules.push(url); return next(url, context); } });`;
  const result = spawnSync(process.execPath, ['--import', `data:text/javascript,${encodeURIComponent(hook)}`, '--input-type=module', '-e', script], { encoding: 'utf8', cwd: DIST, timeout: 60_000 });
  expect(result.stderr).toBe('');
  expect(result.status).toBe(0);
  return result.stdout;
}

/** The packages among the modules loaded, by the name they are installed under. */
const PACKAGES_LOADED = `[...new Set(globalThis.loadedModules.map((url) => url.match(/node_modules\\/((@[^/]+\\/)?[^/]+)\\//)?.[1]).filter(Boolean))].sort()`;

describe('SDK loading', () => {
  it('importing drivetrain/docker and drivetrain/k8s loads neither SDK', () => {
    const out = inFreshProcess(`await import('./drivers/docker/index.js'); await import('./drivers/k8s/index.js'); console.log(JSON.stringify(${PACKAGES_LOADED}));`);
    const packages = JSON.parse(out) as string[];
    expect(packages).not.toContain('dockerode');
    expect(packages).not.toContain('docker-modem');
    expect(packages).not.toContain('@kubernetes/client-node');
    expect(packages).not.toContain('ws');
  });

  it("the drivers and dockerode leave Node's bundled undici unloaded (node:http is required, never imported)", () => {
    // An `import` of node:http reads its WebSocket getter, which loads undici: ~25 ms of CPU at every CLI start.
    const out = inFreshProcess(`
      await import('./drivers/docker/index.js');
      await import('./drivers/k8s/index.js');
      await import('./drivers/k8s/http-stream.js');
      (await import('./drivers/docker/sdk.js')).dockerodeClass();
      console.log(JSON.stringify(process.moduleLoadList.filter((name) => name.includes('undici'))));
    `);
    expect(JSON.parse(out)).toEqual([]);
  });

  it('a Docker driver loads dockerode on its first engine call, and its session and ssh parts only when called', () => {
    const out = inFreshProcess(`
      import { createRequire } from 'node:module';
      const { createDockerDriver } = await import('./drivers/docker/index.js');
      const driver = createDockerDriver();
      const before = ${PACKAGES_LOADED};
      await driver.close().catch(() => {}); // unit tests have no engine: the attempt is what loads dockerode
      const afterClose = ${PACKAGES_LOADED};
      // The ssh transport's stand-in, called as docker-modem calls it: the real module loads then.
      const fromDockerode = createRequire(createRequire(process.cwd() + '/').resolve('dockerode'));
      const agent = fromDockerode('docker-modem/lib/ssh.js')({ host: '127.0.0.1' });
      console.log(JSON.stringify({ before, afterClose, agent: agent.constructor.name, after: ${PACKAGES_LOADED} }));
    `);
    const { before, afterClose, agent, after } = JSON.parse(out) as Record<string, string[]> & { agent: string };
    expect(before).not.toContain('dockerode');
    expect(afterClose).toContain('dockerode');
    for (const heavy of ['@grpc/grpc-js', '@grpc/proto-loader', 'protobufjs', 'ssh2']) expect(afterClose).not.toContain(heavy);
    expect(agent).toBe('Agent');
    expect(after).toContain('ssh2');
  });
});
