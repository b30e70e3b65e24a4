// After the whole suite: nothing this run made may be left on the Docker engine or in
// its local Kubernetes cluster. Usage: node test/infra/leak-check.mjs <run tag> [--remove]
//
// Several runs may share the engine at once, so the check judges only this run's
// resources: every namespace a test makes starts with the run's tag (test/setup/test-run.ts),
// and a container or volume labelled drivetrain whose namespace starts with `<tag>-` is
// this run's. Those of other runs (or of no run) are counted, not judged. The local
// cluster is the run's own; its teardown writes what it still held to
// .drivetrain/runs/<tag>/leaks-k8s-<pid>.json. The Docker containers and volumes that run the
// run's local clusters' pods carry `drivetrain-test/run=<tag>` (test/setup/test-run.ts): any
// still there is a server of the run that stopped without removing them. Any leftover fails
// the run. With --remove (CI), this run's leftovers on Docker are removed so the next run
// starts clean.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const LABEL = 'drivetrain.dev/managed';
const NS = 'drivetrain.dev/namespace';
const TAG = /^t[0-9a-f]{6}$/;
const RUN = 'drivetrain-test/run';
const INSTANCE = 'drivetrain-local-k8s/instance';

const tag = process.argv[2];
const remove = process.argv.includes('--remove');
if (tag === undefined || !TAG.test(tag)) {
  console.log(`leak check: usage: leak-check.mjs <run tag, "t" and 6 hex characters> [--remove]; got ${JSON.stringify(tag)}`);
  process.exit(1);
}
const ours = (namespace) => namespace.startsWith(`${tag}-`);

const docker = (args) => execFileSync('docker', args, { encoding: 'utf8' }).trim();
const rows = (text) => (text === '' ? [] : text.split('\n').map((line) => line.split('\t')));

const allContainers = rows(docker(['ps', '-a', '--filter', `label=${LABEL}`, '--format', `{{.ID}}\t{{.Names}}\t{{.Label "${NS}"}}`]));
const allVolumes = rows(docker(['volume', 'ls', '--filter', `label=${LABEL}`, '--format', `{{.Name}}\t{{.Label "${NS}"}}`]));
const containers = allContainers.filter(([, , ns]) => ours(ns));
const volumes = allVolumes.filter(([, ns]) => ours(ns));
const others = allContainers.length + allVolumes.length - containers.length - volumes.length;

const clusterContainers = rows(docker(['ps', '-a', '--filter', `label=${RUN}=${tag}`, '--format', `{{.ID}}\t{{.Names}}\t{{.Label "${INSTANCE}"}}`]));
const clusterVolumes = rows(docker(['volume', 'ls', '--filter', `label=${RUN}=${tag}`, '--format', `{{.Name}}\t{{.Label "${INSTANCE}"}}`]));

const runDir = join('.drivetrain', 'runs', tag);
const k8sFiles = existsSync(runDir) ? readdirSync(runDir).filter((name) => /^leaks-k8s-\d+\.json$/.test(name)) : [];
const k8s = k8sFiles.flatMap((name) => JSON.parse(readFileSync(join(runDir, name), 'utf8')));

const leaks = [
  ...containers.map(([, name, ns]) => `docker container ${name} (namespace ${ns})`),
  ...volumes.map(([name, ns]) => `docker volume ${name} (namespace ${ns})`),
  ...clusterContainers.map(([, name, instance]) => `docker container ${name} of local cluster ${instance}`),
  ...clusterVolumes.map(([name, instance]) => `docker volume ${name} of local cluster ${instance}`),
  ...k8s.map((o) => `kubernetes ${o.kind} ${o.namespace}/${o.name} (namespace ${o.drivetrainNamespace})`),
];
const notJudged = others === 0 ? '' : ` (${others} resource(s) of other runs on the engine not judged)`;

if (leaks.length === 0) {
  console.log(`leak check: run ${tag} left nothing labelled by drivetrain behind${notJudged}`);
  process.exit(0);
}
console.log(`leak check: run ${tag} left ${leaks.length} resource(s) behind after the suite${notJudged}:\n  ${leaks.join('\n  ')}`);
if (remove) {
  const containerIds = [...containers, ...clusterContainers].map(([id]) => id);
  const volumeNames = [...volumes, ...clusterVolumes].map(([name]) => name);
  if (containerIds.length > 0) execFileSync('docker', ['rm', '-f', ...containerIds], { stdio: 'ignore' });
  if (volumeNames.length > 0) execFileSync('docker', ['volume', 'rm', '-f', ...volumeNames], { stdio: 'ignore' });
}
process.exit(1);
