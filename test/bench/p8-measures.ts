import type { MeasureEntry } from './measures.js';
import { measureP8Docker, measureP8K8s } from './p8-cli.js';

/** P8, the CLI round trip: its entries in the bench's list (`measures.ts`). */
export const CLI_MEASURES: readonly MeasureEntry[] = [
  {
    id: 'P8',
    title: 'CLI round trip and --help vs docker run',
    full: () => measureP8Docker(),
    quick: () => measureP8Docker({ rounds: 3 }),
  },
  {
    id: 'P8',
    title: 'CLI round trip on Kubernetes vs kubectl run',
    full: async (env) => measureP8K8s(await env.cluster()),
    quick: async (env) => measureP8K8s(await env.cluster(), { rounds: 2 }),
  },
];
