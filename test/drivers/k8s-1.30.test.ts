import { testProfile } from './k8s-profile.js';

// Kubernetes 1.30: no pods/log `stream` field; exec/attach v5.channel.k8s.io.
await testProfile('1.30', { kubeVersion: '1.30' });
