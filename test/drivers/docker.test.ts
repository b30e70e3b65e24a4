import { createDockerDriver } from '../../drivers/docker/index.js';
import { testDriver } from '../conformance/index.js';
import { testNamespace } from '../setup/test-run.js';

testDriver({ name: 'docker', namespace: () => testNamespace('ct'), create: (namespace) => createDockerDriver({ namespace }) });
