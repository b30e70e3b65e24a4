import { ensureEngine } from './engine.js';
import { establishTestRun } from './test-run.js';

/**
 * Global setup of the projects that need the Docker engine but no shared cluster (the local
 * cluster's own tests start the clusters they test): the run's tag, then the engine.
 */
export default function setup(): void {
  establishTestRun();
  ensureEngine();
}
