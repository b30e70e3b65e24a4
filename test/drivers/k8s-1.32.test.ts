import { testProfile } from './k8s-profile.js';

// Kubernetes 1.32 as clusters run it by default: PodLogsQuerySplitStreams off, so any pods/log `stream` is refused (422 FieldValueForbidden).
await testProfile('1.32 (split log streams off)', { kubeVersion: '1.32' });
