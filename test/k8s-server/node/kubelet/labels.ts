import { currentOwner, formatOwner } from '../../../../src/kit/owner-identity.js';

/**
 * Docker labels the node part puts on every container and volume it makes. They
 * never carry the pod's own labels, so drivetrain's Docker driver (which reaps by
 * `drivetrain.dev/*`) never sees these resources.
 */
export const NODE_LABELS = {
  instance: 'drivetrain-local-k8s/instance',
  /**
   * The process that runs the server (drivetrain's owner identity: host/boot ID/pid/pid start
   * time), so that a later server can tell the leftovers of a killed one from those of a live one.
   */
  owner: 'drivetrain-local-k8s/owner',
  namespace: 'drivetrain-local-k8s/pod-namespace',
  pod: 'drivetrain-local-k8s/pod-name',
  uid: 'drivetrain-local-k8s/pod-uid',
  container: 'drivetrain-local-k8s/container-name',
  restartCount: 'drivetrain-local-k8s/restart-count',
  claim: 'drivetrain-local-k8s/claim',
} as const;

/**
 * The labels every Docker container and volume of one server instance carries: its instance,
 * its owner (this process) and the labels its caller asked for (`dockerLabels`).
 */
export function instanceLabels(ctx: { instanceId: string; dockerLabels?: Readonly<Record<string, string>> | undefined }): Record<string, string> {
  return { ...ctx.dockerLabels, [NODE_LABELS.instance]: ctx.instanceId, [NODE_LABELS.owner]: formatOwner(currentOwner()) };
}

/** The Docker label filter that selects everything of one server instance. */
export function instanceFilter(instanceId: string): string {
  return `${NODE_LABELS.instance}=${instanceId}`;
}

/** The Docker container name of one run of a pod's container, unique per restart. */
export function dockerContainerName(pod: { namespace: string; name: string; uid: string }, container: string, restartCount: number): string {
  return `k8s_${container}_${pod.name}_${pod.namespace}_${pod.uid.slice(0, 8)}_${restartCount}`;
}
