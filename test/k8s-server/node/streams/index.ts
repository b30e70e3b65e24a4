import type { ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ClusterContext, PodRequest } from '../../api.js';
import { ChannelServer } from './channels.js';
import { serveAttach } from './attach.js';
import { serveExec } from './exec.js';
import { servePodLog } from './log.js';

/** pods/log, pods/exec and pods/attach served from Docker. */
export class PodStreamServer {
  private readonly channels: ChannelServer;

  constructor(private readonly ctx: ClusterContext) {
    this.channels = new ChannelServer(() => ctx.profile.server.minor >= 29 && ctx.profile.server.enabled('TranslateStreamCloseWebsocketRequests'));
  }

  log(request: PodRequest, res: ServerResponse): Promise<void> {
    return servePodLog(this.ctx, request, res);
  }

  exec(request: PodRequest, socket: Duplex, head: Buffer): void {
    serveExec(this.ctx, this.channels, request, socket, head);
  }

  attach(request: PodRequest, socket: Duplex, head: Buffer): void {
    serveAttach(this.ctx, this.channels, request, socket, head);
  }

  /** Ends every open exec/attach session. */
  close(): void {
    this.channels.close();
  }
}
