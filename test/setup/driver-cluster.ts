import type { LocalClusterOptions } from '../k8s-server/cluster.js';

/**
 * The profile the files that drive the k8s driver start their clusters with (and the suite's
 * shared cluster, without `FEATURE_GATES`): the newest version with split log streams on,
 * which the driver's logs still ask for.
 */
export const DRIVER_CLUSTER: LocalClusterOptions = { featureGates: 'PodLogsQuerySplitStreams=true' };
