import { measureP1 } from './p1-roundtrip.js';
import { measureP2 } from './p2-concurrent.js';
import { measureP4Docker } from './p4-exit-delay.js';
import { measureP5 } from './p5-log-throughput.js';
import { measureP6 } from './p6-memory.js';
import type { BenchRow } from './row.js';

/** A measure as `main.ts` runs it: full sizes, or quick ones. */
export interface MeasureEntry {
  id: string;
  title: string;
  full(): Promise<BenchRow[]>;
  quick(): Promise<BenchRow[]>;
}

/** Every measure, in report order. */
export const MEASURES: readonly MeasureEntry[] = [
  {
    id: 'P1',
    title: 'Docker round trip vs CLI and bare dockerode',
    full: () => measureP1(),
    quick: () => measureP1({ sequential: 5, concurrency: [1, 10], batches: 1 }),
  },
  {
    id: 'P2',
    title: '50 tasks at once vs 50 docker run',
    full: () => measureP2(),
    quick: () => measureP2({ tasks: 10, batches: 1 }),
  },
  {
    id: 'P4',
    title: 'exit → wait() delay (Docker)',
    full: () => measureP4Docker(),
    quick: () => measureP4Docker({ tasks: 5 }),
  },
  {
    id: 'P5',
    title: 'follow-log throughput vs docker logs -f',
    full: () => measureP5(),
    quick: () => measureP5({ sizesMiB: [5], rounds: 2 }),
  },
  {
    id: 'P6',
    title: 'memory of 1000 finished Docker tasks',
    full: () => measureP6('docker'),
    quick: () => measureP6('docker', { tasks: 100 }),
  },
  {
    id: 'P6',
    title: 'memory of 1000 finished native tasks',
    full: () => measureP6('native'),
    quick: () => measureP6('native', { tasks: 100 }),
  },
];
