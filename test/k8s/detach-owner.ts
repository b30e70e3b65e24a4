/**
 * A process that detaches from a namespace and is then killed: `node --import tsx
 * detach-owner.ts <kubeconfig> <keeper namespace> <detached namespace>` opens a driver that
 * keeps the process's owner Lease (a volume), runs a task as a Job (`ttlSecondsAfterFinished`)
 * in the other namespace, detaches from it, prints `detached` and waits to be killed (SIGKILL:
 * the keeper's Lease is left to expire).
 */
import { createK8sDriver } from '../../drivers/k8s/index.js';

const [kubeconfig, keeperNamespace, detachedNamespace] = process.argv.slice(2);
if (kubeconfig === undefined || keeperNamespace === undefined || detachedNamespace === undefined) throw new Error('usage: detach-owner.ts <kubeconfig> <keeper namespace> <detached namespace>');
const options = { kubeconfig, reapOrphans: false, ownerLeaseSeconds: 2 };
const signal = AbortSignal.timeout(120_000);
await createK8sDriver({ ...options, namespace: keeperNamespace }).createVolume('kept', { signal });
const driver = createK8sDriver({ ...options, namespace: detachedNamespace, mode: 'job', ttlSecondsAfterFinished: 600 });
await (await driver.runContainer({ id: 'attempt', image: 'busybox', command: ['true'] }, { signal })).wait({ signal });
await driver.detach({ signal });
process.stdout.write('detached\n');
setInterval(() => {}, 60_000);
