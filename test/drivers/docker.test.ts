import { createDockerDriver } from '../../drivers/docker/index.js';
import { testDriver } from '../conformance/index.js';

testDriver({ name: 'docker', create: (namespace) => createDockerDriver({ namespace }) });
