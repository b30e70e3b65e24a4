import { ConflictError } from '../../src/errors.js';
import { LABELS } from '../../src/labels.js';
import type { OperationOptions, Volume } from '../../src/types.js';
import { engineCall, type DockerContext } from './context.js';
import { DOCKER_LABELS, baseLabels, volumeName } from './naming.js';
import { removeVolume } from './removal.js';

/** A drivetrain volume backed by a Docker named volume `dt-<namespace>--<name>`. */
export class DockerVolume implements Volume {
  constructor(
    private readonly ctx: DockerContext,
    readonly name: string,
    /** The size asked for; Docker's local volumes cannot enforce it. */
    readonly sizeBytes: number | undefined,
  ) {}

  /** The engine's name of the volume. */
  get dockerName(): string {
    return volumeName(this.ctx.namespace, this.name);
  }

  /** Removes the volume; already gone is success, in use by a container is `ConflictError`. */
  async cleanup(options: OperationOptions = {}): Promise<void> {
    await removeVolume(this.ctx, this.dockerName, options.signal);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.cleanup();
  }
}

/**
 * Creates the labelled volume, or returns the existing one (the engine's create
 * is idempotent per name). A volume of that name that is not this namespace's is a
 * `ConflictError`: it is never adopted.
 */
export async function ensureVolume(ctx: DockerContext, name: string, sizeBytes: number | undefined, signal?: AbortSignal): Promise<DockerVolume> {
  const dockerName = volumeName(ctx.namespace, name);
  const labels: Record<string, string> = { ...baseLabels(ctx.namespace, 'volume'), [LABELS.volume]: name };
  if (sizeBytes !== undefined) labels[DOCKER_LABELS.sizeBytes] = String(sizeBytes);
  const created = await engineCall(ctx, { kind: 'volume', name: dockerName }, () => createVolumeRaw(ctx, { Name: dockerName, Labels: labels }, signal), { signal, idempotent: true });
  const existing = created.Labels ?? {};
  if (existing[LABELS.namespace] !== ctx.namespace || existing[LABELS.managed] !== 'true') {
    throw new ConflictError(`Docker volume "${dockerName}" exists but was not made by drivetrain namespace "${ctx.namespace}"`);
  }
  const recorded = Number(existing[DOCKER_LABELS.sizeBytes]);
  return new DockerVolume(ctx, name, Number.isFinite(recorded) ? recorded : sizeBytes);
}

/** The engine's create answer, which dockerode's `createVolume` does not return: it carries the existing volume's labels. */
function createVolumeRaw(ctx: DockerContext, body: { Name: string; Labels: Record<string, string> }, signal: AbortSignal | undefined): Promise<{ Labels?: Record<string, string> | null }> {
  return new Promise((resolve, reject) => {
    ctx.docker().modem.dial(
      { path: '/volumes/create?', method: 'POST', allowEmpty: true, options: { _query: {}, _body: body }, abortSignal: signal, statusCodes: { 200: true, 201: true, 500: 'server error' } },
      (error: unknown, data: unknown) => (error ? reject(error) : resolve(data as { Labels?: Record<string, string> | null })),
    );
  });
}
