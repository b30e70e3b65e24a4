import { testProfile } from './k8s-profile.js';

// Kubernetes 1.33 with PodLogsQuerySplitStreams on: stdout and stderr read apart.
await testProfile('1.33 (split log streams on)', { kubeVersion: '1.33', featureGates: 'PodLogsQuerySplitStreams=true' });
