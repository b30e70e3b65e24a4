import { kubectlChecks } from '../checks/kubectl-checks.js';

// The kubectl checks against the older profiles, each with the kubectl of its version.
for (const kubeVersion of ['1.28', '1.29', '1.30'] as const) kubectlChecks({ kubeVersion });
