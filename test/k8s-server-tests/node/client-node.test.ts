import { clientNodeChecks } from '../checks/client-node-checks.js';

// The default profile (the newest version) with split log streams on; older ones:
// test/k8s-server-tests/profiles/client-node-versions.test.ts.
clientNodeChecks({ featureGates: 'PodLogsQuerySplitStreams=true' });
