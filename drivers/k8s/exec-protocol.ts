import type { KubeConfig } from '@kubernetes/client-node';
import { raceAbort } from '../../src/abort.js';
import { normaliseError } from './api-errors.js';
import { KubeWebSocket } from './ws-connect.js';

/** The subprotocol with the stdin CLOSE frame `[255, 0]` (KEP-4006). */
export const V5_PROTOCOL = 'v5.channel.k8s.io';

/** A container to open an exec in. */
export interface ExecTarget {
  namespace: string;
  pod: string;
  container: string;
}

/**
 * The exec/attach subprotocol the API server negotiates, learnt once per driver from a
 * WebSocket handshake (the answer is in the upgrade response; the socket is closed at
 * once). v5 is served where the API server translates it
 * (`TranslateStreamCloseWebsocketRequests`: 1.29 with the gate, on by default from 1.30);
 * below, v4 and older, which have no way to end stdin but closing the socket
 * (`pkg/registry/core/pod/rest/subresources.go` `ExecREST.Connect`,
 * `pkg/kubelet/cri/streaming/remotecommand/websocket.go`).
 */
export class ExecProtocol {
  private known: string | undefined;
  private probing: Promise<string> | undefined;

  constructor(private readonly kc: KubeConfig) {}

  /** The negotiated protocol (probed on `target` the first time). */
  async of(target: ExecTarget, signal?: AbortSignal): Promise<string> {
    if (this.known !== undefined) return this.known;
    this.probing ??= this.handshake(target).finally(() => (this.probing = undefined));
    const protocol = await raceAbort(this.probing, signal);
    this.known ??= protocol;
    return protocol;
  }

  /** The protocol learnt so far, if any. */
  get current(): string | undefined {
    return this.known;
  }

  private async handshake(target: ExecTarget): Promise<string> {
    // A command that does nothing (or does not exist in the image): only the handshake counts.
    const path = `/api/v1/namespaces/${encodeURIComponent(target.namespace)}/pods/${encodeURIComponent(target.pod)}/exec?command=true&container=${encodeURIComponent(target.container)}&stdout=true&stderr=true`;
    try {
      const socket = await new KubeWebSocket(this.kc).connect(path, null, null);
      const protocol = socket.protocol;
      socket.terminate();
      return protocol;
    } catch (error) {
      throw normaliseError(error, `exec in pod "${target.pod}"`);
    }
  }
}
