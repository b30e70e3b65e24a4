// After the whole suite: nothing labelled by drivetrain may be left on the Docker
// engine or in the local Kubernetes cluster (whose teardown writes what it still
// held to .drivetrain/leaks-k8s.json). Any leftover fails the run. With --remove
// (CI), leftovers on Docker are removed so the next run starts clean.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

const LABEL = 'drivetrain.dev/managed';
const NS = 'drivetrain.dev/namespace';
const remove = process.argv.includes('--remove');

const docker = (args) => execFileSync('docker', args, { encoding: 'utf8' }).trim();
const rows = (text) => (text === '' ? [] : text.split('\n').map((line) => line.split('\t')));

const containers = rows(docker(['ps', '-a', '--filter', `label=${LABEL}`, '--format', `{{.ID}}\t{{.Names}}\t{{.Label "${NS}"}}`]));
const volumes = rows(docker(['volume', 'ls', '--filter', `label=${LABEL}`, '--format', `{{.Name}}\t{{.Label "${NS}"}}`]));
const k8sFile = '.drivetrain/leaks-k8s.json';
const k8s = existsSync(k8sFile) ? JSON.parse(readFileSync(k8sFile, 'utf8')) : [];

const leaks = [
  ...containers.map(([, name, ns]) => `docker container ${name} (namespace ${ns})`),
  ...volumes.map(([name, ns]) => `docker volume ${name} (namespace ${ns})`),
  ...k8s.map((o) => `kubernetes ${o.kind} ${o.namespace}/${o.name} (namespace ${o.drivetrainNamespace})`),
];

if (leaks.length === 0) {
  console.log('leak check: nothing labelled by drivetrain was left behind');
  process.exit(0);
}
console.log(`leak check: ${leaks.length} resource(s) left behind after the suite:\n  ${leaks.join('\n  ')}`);
if (remove) {
  if (containers.length > 0) execFileSync('docker', ['rm', '-f', ...containers.map(([id]) => id)], { stdio: 'ignore' });
  if (volumes.length > 0) execFileSync('docker', ['volume', 'rm', '-f', ...volumes.map(([name]) => name)], { stdio: 'ignore' });
}
process.exit(1);
