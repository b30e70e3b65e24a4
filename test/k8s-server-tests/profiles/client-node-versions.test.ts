import { clientNodeChecks } from '../checks/client-node-checks.js';

// The client-node proofs against the older profiles and the default gates of the newer ones
// (the newest with split log streams on is test/k8s-server-tests/node/client-node.test.ts).
clientNodeChecks({ kubeVersion: '1.28' });
clientNodeChecks({ kubeVersion: '1.29' });
clientNodeChecks({ kubeVersion: '1.30' });
clientNodeChecks({ kubeVersion: '1.31' });
clientNodeChecks({ kubeVersion: '1.32' });
clientNodeChecks({ kubeVersion: '1.33', featureGates: 'PodLogsQuerySplitStreams=true' });
