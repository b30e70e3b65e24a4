import { posix } from 'node:path';
import type { Writable } from 'node:stream';
import { CollectingWritable, StartTimeoutError, type ExecOptions, type Limits, type Sandbox } from 'drivetrain';
import { createDockerDriver, type DockerDriver } from 'drivetrain/docker';
import { createK8sDriver, type K8sDriver } from 'drivetrain/k8s';
import { pack, unpack, withHostTar } from './host-tar.ts';
import { credentialsFromEnv, publishExecutorImage, type RegistryConfig } from './image.ts';

/** The executor's configuration, as the Nix module declares it. */
export interface ExecutorConfig {
  /** `shared`: one pod, each job in its own copy of the workspace; `dedicated`: a pod per job. */
  mode: 'shared' | 'dedicated';
  /** Where pods run: `k8s` (the design's target) or `docker` (the OCI executor's engine). */
  driver: 'k8s' | 'docker';
  /** The workflow: names everything the executor makes (a drivetrain namespace). */
  workflowId: string;
  /** The executor image as a `docker save` archive (what Nix's dockerTools builds), gzip allowed. */
  imageArchive: string;
  registry: RegistryConfig;
  /** The host directory copied into every job (copyRepo); none copies nothing. */
  workspace?: string;
  /** How long a pod may take to be scheduled, pulled and started, in seconds (fractions allowed). @default 300 */
  podReadyTimeout?: number;
  nodeSelector?: Record<string, string>;
  resources?: Limits;
  /** Labels added to every object the executor makes (k8s). */
  labels?: Record<string, string>;
}

const ROOT = '/workspace';
const GOLDEN = `${ROOT}/.golden`;

/** The executor's hooks on drivetrain: the executor image is published, pods run it, files move as `kubectl cp` moves them. */
export class NixExecutor {
  private readonly config: ExecutorConfig;
  private driver: K8sDriver | DockerDriver | undefined;
  private image = '';
  private shared: Sandbox | undefined;
  private readonly dedicated = new Map<string, Sandbox>();

  constructor(config: ExecutorConfig) {
    this.config = config;
  }

  /** The pushed executor image, once `setupWorkspace` ran. */
  get imageReference(): string {
    return this.image;
  }

  /** Publishes the image; in shared mode also starts the pod and copies the workspace into its golden directory. */
  async setupWorkspace(signal?: AbortSignal): Promise<void> {
    const { config } = this;
    const credentials = credentialsFromEnv(config.registry);
    this.image = await publishExecutorImage(config.imageArchive, config.registry, credentials, signal);
    const startTimeoutMs = Math.max(1, Math.round((config.podReadyTimeout ?? 300) * 1000));
    if (config.driver === 'k8s') {
      // One pull secret per workflow: workflows beside each other in one Kubernetes namespace never share one.
      const pullSecret = `${config.workflowId}-registry`;
      const driver = createK8sDriver({
        namespace: config.workflowId,
        startTimeoutMs,
        imagePullSecrets: [pullSecret],
        // Tags are content hashes, so IfNotPresent would be as right; Always has every node ask the registry.
        imagePullPolicy: 'Always',
        ...(config.nodeSelector === undefined ? {} : { nodeSelector: config.nodeSelector }),
        ...(config.labels === undefined ? {} : { labels: config.labels }),
      });
      this.driver = driver;
      await driver.createPullSecret(pullSecret, credentials, { signal });
    } else {
      this.driver = createDockerDriver({ namespace: config.workflowId, startTimeoutMs });
    }
    if (config.mode === 'shared') {
      this.shared = await this.startPod('workspace', signal);
      await this.copyIn(this.shared, GOLDEN, signal);
    }
  }

  /** Shared: `cp -r .golden jobs/<job>`. Dedicated: a pod of its own with the workspace copied in. */
  async setupJob(job: string, signal?: AbortSignal): Promise<void> {
    const dir = jobDir(job);
    if (this.shared !== undefined) {
      await this.run(this.shared, ['sh', '-c', 'mkdir -p "$(dirname "$2")" && cp -r "$1" "$2"', 'setup', GOLDEN, dir], { signal });
      return;
    }
    const pod = await this.startPod(`job-${job}`, signal);
    this.dedicated.set(job, pod);
    await this.copyIn(pod, dir, signal);
  }

  /** Runs the job's script with `sh -c` in its own directory; resolves with the exit code. */
  async executeJob(job: string, script: string, io: { stdout?: Writable; stderr?: Writable; env?: Record<string, string>; signal?: AbortSignal } = {}): Promise<number | null> {
    const status = await this.podOf(job).exec(['sh', '-c', script], { workDir: jobDir(job), env: io.env, stdout: io.stdout, stderr: io.stderr, signal: io.signal });
    return status.exitCode;
  }

  /** `kubectl cp pod:jobs/<job>/<path> hostDir/<path>`. */
  async saveArtifact(job: string, path: string, hostDir: string, signal?: AbortSignal): Promise<void> {
    const host = unpack(hostDir);
    const status = await withHostTar(host, () => this.podOf(job).exec(['tar', '-c', '--', path], { workDir: jobDir(job), stdout: host.stream, signal }));
    if (status.exitCode !== 0) throw new Error(`saving artifact ${path} of job ${job}: tar exited ${status.exitCode}`);
  }

  /** `kubectl cp hostDir/<path> pod:jobs/<job>/<path>`. */
  async restoreArtifact(job: string, hostDir: string, path: string, signal?: AbortSignal): Promise<void> {
    const host = pack(hostDir, [path]);
    const status = await withHostTar(host, () => this.podOf(job).exec(['tar', '-x'], { workDir: jobDir(job), stdin: host.stream, signal }));
    if (status.exitCode !== 0) throw new Error(`restoring artifact ${path} into job ${job}: tar exited ${status.exitCode}`);
  }

  /** Dedicated: the job's pod goes. Shared: nothing. */
  async cleanupJob(job: string, signal?: AbortSignal): Promise<void> {
    await this.dedicated.get(job)?.cleanup({ signal });
    this.dedicated.delete(job);
  }

  /** Everything the workflow made goes: pods, the pull secret. Safe after a failed setup. */
  async cleanupWorkspace(signal?: AbortSignal): Promise<void> {
    await this.driver?.close({ signal });
  }

  private async startPod(id: string, signal?: AbortSignal): Promise<Sandbox> {
    if (this.driver === undefined) throw new Error('setupWorkspace has not run');
    try {
      return await this.driver.startSandbox({ id, image: this.image, workDir: ROOT, limits: this.config.resources }, { signal });
    } catch (error) {
      if (error instanceof StartTimeoutError) throw new Error(`executor pod "${id}" not ready within ${this.config.podReadyTimeout ?? 300} s: ${error.message}`, { cause: error });
      throw error;
    }
  }

  /** The workspace (if any) into `dir` of the pod, as `kubectl cp $PWD pod:dir` does. */
  private async copyIn(pod: Sandbox, dir: string, signal?: AbortSignal): Promise<void> {
    await this.run(pod, ['mkdir', '-p', dir], { signal });
    if (this.config.workspace === undefined) return;
    const host = pack(this.config.workspace);
    await withHostTar(host, () => this.run(pod, ['tar', '-x', '-C', dir], { stdin: host.stream, signal }));
  }

  /** Runs a step of the executor's own; a failure carries the command's stderr. */
  private async run(pod: Sandbox, command: string[], options: ExecOptions = {}): Promise<void> {
    const stderr = new CollectingWritable();
    const status = await pod.exec(command, { ...options, stderr });
    if (status.exitCode !== 0) throw new Error(`${command.join(' ')} in pod ${pod.id}: exit ${status.exitCode}${status.reason === undefined ? '' : ` (${status.reason})`}: ${stderr.text().trim()}`);
  }

  private podOf(job: string): Sandbox {
    const pod = this.shared ?? this.dedicated.get(job);
    if (pod === undefined) throw new Error(`job ${job} was not set up`);
    return pod;
  }
}

/** Each job's own directory; job names are plain words, never paths. */
function jobDir(job: string): string {
  if (!/^[A-Za-z0-9_-]+$/.test(job)) throw new Error(`job name ${JSON.stringify(job)}: letters, digits, "_" and "-" only`);
  return posix.join(ROOT, 'jobs', job);
}
