import { kubectlChecks } from '../checks/kubectl-checks.js';

// The default profile (the newest version); older ones: test/k8s-server-tests/profiles/kubectl-versions-*.test.ts.
kubectlChecks();
