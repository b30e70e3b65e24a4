import type { ClusterContext } from '../../api.js';

/** A running controller. */
export interface Controller {
  stop(): void;
}

/** Starts the node-side controllers: PVC binder, Job, Deployment, garbage collector. */
export async function startControllers(_ctx: ClusterContext): Promise<Controller> {
  const controllers: Controller[] = [];
  return { stop: () => controllers.forEach((c) => c.stop()) };
}
