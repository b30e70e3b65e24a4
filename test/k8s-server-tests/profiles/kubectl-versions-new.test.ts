import { kubectlChecks } from '../checks/kubectl-checks.js';

// The kubectl checks against the newer profiles, each with the kubectl of its version
// (the newest, 1.34, is test/k8s-server-tests/node/kubectl.test.ts).
for (const kubeVersion of ['1.31', '1.32', '1.33'] as const) kubectlChecks({ kubeVersion });
