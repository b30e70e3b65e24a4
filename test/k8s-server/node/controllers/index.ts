import type { ClusterContext, StoreEvent } from '../../api.js';
import { DeploymentController } from './deployment.js';
import { GarbageCollector } from './gc.js';
import { JobController } from './job.js';
import { PvcController } from './pvc.js';

/** A running controller. */
export interface Controller {
  start(): void;
  onEvent(event: StoreEvent): void;
  stop(): void;
}

/** Starts the node-side controllers: PVC binder, Job, Deployment, garbage collector. */
export async function startControllers(ctx: ClusterContext): Promise<{ stop(): void }> {
  const controllers: Controller[] = [new PvcController(ctx), new JobController(ctx), new DeploymentController(ctx), new GarbageCollector(ctx)];
  let stopped = false;
  const unsubscribe = ctx.store.subscribe((event) => {
    if (stopped) return;
    for (const controller of controllers) controller.onEvent(event);
  });
  for (const controller of controllers) controller.start();
  return {
    stop() {
      stopped = true;
      unsubscribe();
      for (const controller of controllers) controller.stop();
    },
  };
}
