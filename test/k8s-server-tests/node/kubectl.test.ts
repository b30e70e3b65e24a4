import { kubectlChecks } from '../checks/kubectl-checks.js';

// The default profile (the newest version, kubectl 1.32), with the checks on a terminal; older ones: test/k8s-server-tests/profiles/kubectl-versions-*.test.ts.
kubectlChecks({}, { terminal: true });
