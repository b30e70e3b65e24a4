import { createNativeDriver } from '../../drivers/native/index.js';
import { testDriver } from '../conformance/index.js';
import { testNamespace } from '../setup/test-run.js';

testDriver({ name: 'native', namespace: () => testNamespace('ct'), create: (namespace) => createNativeDriver({ namespace }) });
