import type { ClusterContext, KObject } from '../../api.js';
import { admitCreate, assignGeneratedName } from '../../admission/index.js';
import { StatusError } from '../../status.js';
import { now } from '../kubelet/status.js';

export { now };

/** A pod that has finished or is being deleted no longer counts as active. */
export const isActivePod = (pod: KObject): boolean => !pod.metadata.deletionTimestamp && pod.status?.phase !== 'Succeeded' && pod.status?.phase !== 'Failed';

/** The controller owner reference of an object, if any. */
export const controllerOf = (object: KObject) => object.metadata.ownerReferences?.find((r) => r.controller);

/** Runs `fn` after the current store write returns (store listeners run inside it). */
export function later(fn: () => void): void {
  queueMicrotask(fn);
}

/** A set of unref'd timers keyed by name, cancelled on stop. */
export class Timers {
  private timers = new Map<string, NodeJS.Timeout>();

  set(key: string, ms: number, fn: () => void): void {
    clearTimeout(this.timers.get(key));
    const timer = setTimeout(() => {
      this.timers.delete(key);
      fn();
    }, Math.max(0, ms));
    timer.unref();
    this.timers.set(key, timer);
  }

  clear(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }
}

/**
 * Passes a pod a controller is about to create through the API server's admission
 * (PodSecurity, ResourceQuota). A refusal becomes the controller's Warning event
 * FailedCreate "Error creating: …" (pkg/controller/controller_utils.go `CreatePods`) and false.
 */
export function admitControllerPod(ctx: ClusterContext, owner: KObject, pod: KObject): boolean {
  assignGeneratedName(pod);
  try {
    admitCreate(ctx.store, 'pods', pod);
    return true;
  } catch (error) {
    if (!(error instanceof StatusError)) throw error;
    ctx.recordEvent(owner, 'Warning', 'FailedCreate', `Error creating: ${error.message}`);
    return false;
  }
}
