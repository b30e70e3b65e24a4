import { testProfile } from './k8s-profile.js';

// Kubernetes 1.28: no pods/log `stream` field; exec/attach up to v4.channel.k8s.io (no stdin
// close frame). Exec with input on 1.28 and 1.29 in detail: test/k8s/exec-input-profiles.test.ts.
await testProfile('1.28', { kubeVersion: '1.28' });
