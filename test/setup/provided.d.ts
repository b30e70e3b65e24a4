/** Values the global setup provides to every test file (`inject('kubeconfig')`). */
declare module 'vitest' {
  export interface ProvidedContext {
    /** Path of the kubeconfig of the suite's Kubernetes cluster (the local API server, or KUBECONFIG for a real one). */
    kubeconfig: string;
    /** `https://127.0.0.1:<port>` of the local API server; '' when a real cluster is used. */
    clusterUrl: string;
    /**
     * Plain-HTTP control endpoint of the local API server ('' for a real cluster):
     * `POST /faults` (FaultRequest JSON), `DELETE /faults`, `POST /cut-watches`,
     * `GET|DELETE /metrics`, `POST /restart`.
     */
    clusterControlUrl: string;
  }
}
export {};
