import type { StartNode } from '../api.js';
import { errors } from '../status.js';

/**
 * The node part of the local cluster: scheduler, kubelet on Docker, controllers
 * and the pod log/exec/attach streams. Minimal placeholder until the kubelet lands.
 */
export const startNode: StartNode = async (_ctx) => ({
  async stop() {},
  async log() {
    throw errors.badRequest('pod logs are not served yet');
  },
  exec(_request, socket) {
    socket.destroy();
  },
  attach(_request, socket) {
    socket.destroy();
  },
});
