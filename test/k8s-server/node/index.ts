import type { StartNode } from '../api.js';
import { removeDeadInstances } from './kubelet/dead-instances.js';
import { Kubelet } from './kubelet/kubelet.js';
import { startControllers } from './controllers/index.js';
import { PodStreamServer } from './streams/index.js';

/**
 * The node part of the local cluster: scheduler and kubelet on Docker, the
 * controllers (PVC binder, Job, Deployment, garbage collector) and the pod
 * log/exec/attach streams. Before it runs anything it removes what killed servers left on the
 * engine (dead-instances.ts): a clean stop removes its own, a SIGKILL cannot.
 */
export const startNode: StartNode = async (ctx) => {
  // Housekeeping only: an engine that cannot list or remove fails the kubelet's own start next.
  await removeDeadInstances(ctx.docker, ctx.instanceId).catch(() => undefined);
  const controllers = await startControllers(ctx);
  const kubelet = new Kubelet(ctx);
  await kubelet.start();
  const streams = new PodStreamServer(ctx);
  let stopping: Promise<void> | undefined;
  return {
    stop(options = {}) {
      stopping ??= (async () => {
        controllers.stop();
        streams.close();
        await kubelet.stop(Boolean(options.removeContainers));
      })();
      return stopping;
    },
    log: (request, res) => streams.log(request, res),
    exec: (request, socket, head) => streams.exec(request, socket, head),
    attach: (request, socket, head) => streams.attach(request, socket, head),
  };
};
