import { MemoryBreakerStore } from '../../src';
import { describeStoreConformance } from './conformance';

describeStoreConformance('memory', { store: () => new MemoryBreakerStore(), runs: 300 });
