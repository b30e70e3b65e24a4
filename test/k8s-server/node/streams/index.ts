import type { ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ClusterContext, PodRequest } from '../../api.js';
import { errors } from '../../status.js';

/** pods/log, pods/exec and pods/attach served from Docker. */
export class PodStreamServer {
  constructor(private readonly ctx: ClusterContext) {}

  async log(_request: PodRequest, _res: ServerResponse): Promise<void> {
    void this.ctx;
    throw errors.badRequest('not yet');
  }

  exec(_request: PodRequest, socket: Duplex, _head: Buffer): void {
    socket.destroy();
  }

  attach(_request: PodRequest, socket: Duplex, _head: Buffer): void {
    socket.destroy();
  }

  close(): void {}
}
