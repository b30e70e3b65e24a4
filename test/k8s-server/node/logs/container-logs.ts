import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { DockerFrames } from '../streams/frames.js';
import { CriLogWriter } from './cri-writer.js';

/** The pod a container belongs to, for the log's path. */
export interface LogOwner {
  namespace: string;
  name: string;
  uid: string;
}

/**
 * The node's container logs, as a CRI runtime keeps them: one CRI log file per run of a
 * container, `<dir>/<namespace>_<pod>_<uid>/<container>/<restartCount>.log` (the kubelet's
 * /var/log/pods layout, pkg/kubelet/kuberuntime/helpers.go BuildContainerLogsDirectory),
 * written from the container's own output streams, attached to before it starts. Owned by the
 * cluster, not the node part: like a runtime's log writer, it goes on while the node part
 * restarts. Containers it did not capture (found after the server process itself restarted)
 * are read from the engine's log instead.
 */
export class ContainerLogs {
  private readonly writers = new Map<string, CriLogWriter>();
  /** Engine IDs of the captured containers, by pod uid. */
  private readonly byPod = new Map<string, Set<string>>();
  private readonly streams = new Set<Duplex>();

  constructor(private readonly dir: string) {}

  /** The CRI log of a container (by engine id), when it was captured. */
  get(id: string): CriLogWriter | undefined {
    return this.writers.get(id);
  }

  /**
   * Resolves once a container's captured output is all in its log (the engine ended the
   * attach and the file is written), at once for a container not captured, and after
   * `timeoutMs` at the latest. A runtime reports a container exited only once its output is
   * copied: containerd's CRI handleContainerExit (internal/cri/server/events.go) deletes the
   * task, which waits for the container's IO (client/task.go `(*task).Delete`: `t.io.Wait()`),
   * before it sets the exit code, under handleEventTimeout (10 s).
   */
  async written(id: string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    const writer = this.writers.get(id);
    if (writer === undefined || writer.closed) return;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        writer.off('closed', done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      writer.once('closed', done);
      signal?.addEventListener('abort', done, { once: true });
      if (signal?.aborted) done();
    });
  }

  /**
   * Writes a container's output, read from an attach made before the container started
   * (multiplexed frames, or raw bytes for a TTY), to its CRI log until the stream ends.
   */
  capture(id: string, owner: LogOwner, container: string, restartCount: number, tty: boolean, output: Duplex): CriLogWriter {
    const path = join(this.podDir(owner), container, `${restartCount}.log`);
    const writer = new CriLogWriter(path);
    this.writers.set(id, writer);
    const ids = this.byPod.get(owner.uid) ?? new Set<string>();
    this.byPod.set(owner.uid, ids.add(id));
    this.streams.add(output);
    const frames = new DockerFrames(tty, (frame) => writer.write(frame.stream === 2 ? 'stderr' : 'stdout', frame.data), false);
    output.on('data', (chunk: Buffer) => frames.push(chunk));
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      this.streams.delete(output);
      frames.flush();
      writer.end();
    };
    output.on('end', end);
    output.on('close', end);
    output.on('error', end);
    return writer;
  }

  /** A pod's log directory (pkg/kubelet/kuberuntime/helpers.go BuildPodLogsDirectory: `<namespace>_<name>_<uid>`). */
  private podDir(owner: LogOwner): string {
    return join(this.dir, `${owner.namespace}_${owner.name}_${owner.uid}`);
  }

  /**
   * Removes a pod's logs (the pod is gone), as the kubelet removes a deleted pod's log
   * directory: that directory only, found by name, whatever the number of other pods' logs.
   */
  removePod(owner: LogOwner): void {
    for (const id of this.byPod.get(owner.uid) ?? []) this.writers.delete(id);
    this.byPod.delete(owner.uid);
    rmSync(this.podDir(owner), { recursive: true, force: true });
  }

  /** Ends every capture (the cluster stops). */
  close(): void {
    for (const stream of this.streams) stream.destroy();
    this.streams.clear();
  }
}
