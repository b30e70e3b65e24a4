import { posix } from 'node:path';
import { Writable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { defaultWorkDir, type Sandbox, type Service } from 'drivetrain';
import { createDockerDriver, type DockerDriver } from 'drivetrain/docker';
import { createK8sDriver, type K8sDriver } from 'drivetrain/k8s';

/** The part of a GitHub Actions workflow this backend runs: `run` steps of jobs ordered by `needs`. */
export interface Workflow {
  name: string;
  env?: Record<string, string>;
  jobs: Record<string, Job>;
}
export interface Job {
  'runs-on': string | string[];
  needs?: string[];
  env?: Record<string, string>;
  /** Service containers the steps reach at `localhost`, by name. */
  services?: Record<string, ServiceSpec>;
  steps: Step[];
}
/** A job's service container, as in a workflow's `jobs.<id>.services.<name>`. */
export interface ServiceSpec {
  /** @default the runner's image */
  image?: string;
  /** The command to run instead of the image's own (an addition of this backend). */
  command?: string[];
  env?: Record<string, string>;
  /** `PORT` or `HOST:CONTAINER`; the first container port is the readiness check (something listens on it). */
  ports?: Array<string | number>;
}
export interface Step {
  name: string;
  run: string;
  env?: Record<string, string>;
  /** Relative to the workspace. */
  'working-directory'?: string;
}

/** Where runner pods run, from what image, how long they may take to start. */
export interface RunnerConfig {
  driver: 'docker' | 'k8s';
  /** The run: names and labels everything it makes (a drivetrain namespace). */
  namespace: string;
  image: string;
  /** Existing `kubernetes.io/dockerconfigjson` Secrets for pulling `image` (k8s). */
  imagePullSecrets?: string[];
  /** Seconds a runner pod may take to be scheduled and started. @default 300 */
  podTimeout?: number;
}

/** Where the tool cache volume is mounted in every runner (`RUNNER_TOOL_CACHE`). */
export const TOOL_CACHE = '/opt/hostedtoolcache';

/** act's "Set up job", run in the runner before the job's own steps (the design's init step). */
const SET_UP_JOB: Step = { name: 'Set up job', run: 'mkdir -p "$RUNNER_TEMP" && echo "runner $(uname -s) $(uname -m), tool cache $RUNNER_TOOL_CACHE"' };

/** `runs-on` labels as a nodeSelector, as the design maps the standard runner labels; other labels as `<label>: "true"`. */
export function runsOnToNodeSelector(runsOn: string | readonly string[]): Record<string, string> {
  const known: Record<string, [string, string]> = {
    'self-hosted': ['node-type', 'self-hosted'],
    linux: ['kubernetes.io/os', 'linux'],
    windows: ['kubernetes.io/os', 'windows'],
    x64: ['kubernetes.io/arch', 'amd64'],
    arm64: ['kubernetes.io/arch', 'arm64'],
    gpu: ['accelerator', 'gpu'],
  };
  return Object.fromEntries((typeof runsOn === 'string' ? [runsOn] : runsOn).map((label) => known[label.toLowerCase()] ?? [label, 'true']));
}

/**
 * act's Kubernetes backend on drivetrain: each job gets a runner pod (a sandbox) scheduled by
 * its `runs-on`, with the run's tool cache volume and a fresh workspace (the sandbox's scratch
 * directory: an emptyDir on Kubernetes); each step is an exec of `sh -e -c`.
 */
export class ActRunner {
  private readonly config: RunnerConfig;
  private readonly log: (line: string) => void;
  /** One driver per nodeSelector (a driver option), all of the run's namespace. */
  private readonly drivers = new Map<string, K8sDriver | DockerDriver>();

  constructor(config: RunnerConfig, log: (line: string) => void) {
    this.config = config;
    this.log = log;
  }

  /** Runs the jobs in `needs` order; a job whose needs failed is skipped. Resolves with success. */
  async runWorkflow(workflow: Workflow, signal?: AbortSignal): Promise<boolean> {
    const done = new Map<string, boolean>();
    const pending = Object.keys(workflow.jobs);
    while (pending.length > 0) {
      const index = pending.findIndex((name) => (workflow.jobs[name]!.needs ?? []).every((need) => done.has(need)));
      if (index < 0) throw new Error(`jobs ${pending.join(', ')}: their needs form a cycle or name no job`);
      const [name] = pending.splice(index, 1) as [string];
      const job = workflow.jobs[name]!;
      const blocked = (job.needs ?? []).filter((need) => done.get(need) !== true);
      if (blocked.length > 0) this.log(`[${workflow.name}/${name}] skipped: ${blocked.join(', ')} did not succeed`);
      done.set(name, blocked.length === 0 && (await this.runJob(workflow, name, job, signal)));
    }
    return [...done.values()].every(Boolean);
  }

  /** Starts the job's runner pod, runs the set-up and the steps until one fails, removes the pod. */
  private async runJob(workflow: Workflow, name: string, job: Job, signal?: AbortSignal): Promise<boolean> {
    const id = `${workflow.name}/${name}`;
    const prefix = `[${id}]`;
    const workspace = defaultWorkDir(id);
    const env = {
      CI: 'true',
      GITHUB_ACTIONS: 'true',
      GITHUB_WORKFLOW: workflow.name,
      GITHUB_JOB: name,
      GITHUB_WORKSPACE: workspace,
      RUNNER_TOOL_CACHE: TOOL_CACHE,
      RUNNER_TEMP: '/tmp/runner',
      ...workflow.env,
      ...job.env,
    };
    const services = this.servicesOf(job);
    let runner: Sandbox;
    try {
      // The job's services start first, in the runner pod's network namespace, each ready before the steps run.
      runner = await this.driverFor(job['runs-on']).startSandbox({ id, image: this.config.image, env, mounts: [{ volume: 'tool-cache', path: TOOL_CACHE }], services }, { signal });
    } catch (error) {
      this.log(`${prefix} ❌ no runner for runs-on ${JSON.stringify(job['runs-on'])}: ${(error as Error).name}: ${(error as Error).message}`);
      return false;
    }
    try {
      for (const step of [SET_UP_JOB, ...job.steps]) {
        this.log(`${prefix} ⭐ Run ${step.name}`);
        const stdout = new LineWriter((line) => this.log(`${prefix}   | ${line}`));
        const stderr = new LineWriter((line) => this.log(`${prefix}   ! ${line}`));
        const workDir = posix.join(workspace, step['working-directory'] ?? '.');
        const status = await runner.exec(['sh', '-e', '-c', step.run], { env: step.env, workDir, stdout, stderr, signal });
        stdout.flush();
        stderr.flush();
        if (status.exitCode !== 0) {
          this.log(`${prefix} ❌ Failure - ${step.name} (exit ${status.exitCode}${status.reason === undefined ? '' : `, ${status.reason}`})`);
          return false;
        }
        this.log(`${prefix} ✅ Success - ${step.name}`);
      }
      for (const service of services) {
        const output = new LineWriter((line) => this.log(`${prefix} 📜 ${service.name} | ${line}`));
        await runner.logs!({ service: service.name, stdout: output, stderr: output, signal });
        output.flush();
      }
      this.log(`${prefix} 🏁 Job succeeded`);
      return true;
    } finally {
      await runner.cleanup();
    }
  }

  /** The job's `services` as drivetrain services: ready once something listens on the first container port. */
  private servicesOf(job: Job): Service[] {
    return Object.entries(job.services ?? {}).map(([name, spec]) => {
      const port = spec.ports?.[0] === undefined ? undefined : Number(String(spec.ports[0]).split(':').pop());
      return {
        name,
        image: spec.image ?? this.config.image,
        ...(spec.command === undefined ? {} : { command: spec.command }),
        ...(spec.env === undefined ? {} : { env: spec.env }),
        ...(port === undefined ? {} : { ready: { tcpPort: port } }),
      };
    });
  }

  private driverFor(runsOn: string | string[]): K8sDriver | DockerDriver {
    const { config } = this;
    const nodeSelector = config.driver === 'k8s' ? runsOnToNodeSelector(runsOn) : {};
    const key = JSON.stringify(nodeSelector);
    let driver = this.drivers.get(key);
    if (driver === undefined) {
      const startTimeoutMs = Math.round((config.podTimeout ?? 300) * 1000);
      driver =
        config.driver === 'k8s'
          ? createK8sDriver({ namespace: config.namespace, nodeSelector, imagePullSecrets: config.imagePullSecrets, imagePullPolicy: 'Always', startTimeoutMs })
          : createDockerDriver({ namespace: config.namespace, startTimeoutMs });
      this.drivers.set(key, driver);
    }
    return driver;
  }

  /** Removes every runner and the tool cache volume of the run. */
  async close(): Promise<void> {
    await Promise.all([...this.drivers.values()].map((driver) => driver.close()));
  }
}

/** Hands each complete line written to it to `onLine` (UTF-8); `flush` hands on the rest. */
class LineWriter extends Writable {
  private pending = '';
  private readonly decoder = new StringDecoder('utf8');
  private readonly onLine: (line: string) => void;
  constructor(onLine: (line: string) => void) {
    super();
    this.onLine = onLine;
  }
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    const lines = (this.pending + this.decoder.write(chunk)).split('\n');
    this.pending = lines.pop() ?? '';
    for (const line of lines) this.onLine(line);
    callback();
  }
  flush(): void {
    this.pending += this.decoder.end();
    if (this.pending !== '') this.onLine(this.pending);
    this.pending = '';
  }
}
