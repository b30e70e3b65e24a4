import { createNativeDriver } from '../../drivers/native/index.js';
import { testDriver } from '../conformance/index.js';

testDriver({ name: 'native', create: (namespace) => createNativeDriver({ namespace }) });
