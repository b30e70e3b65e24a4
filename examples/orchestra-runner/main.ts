// An Orchestra-style pipeline on drivetrain: `node main.ts --driver docker|k8s [--namespace NS] [--logs DIR]`.
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createDriver } from 'drivetrain';
import { OrchestraRunner, WORKSPACE, type Step } from './runner.ts';

const { values } = parseArgs({ options: { driver: { type: 'string', default: 'docker' }, namespace: { type: 'string' }, logs: { type: 'string' } } });
const logDir = values.logs ?? mkdtempSync(join(tmpdir(), 'orchestra-logs-'));
mkdirSync(logDir, { recursive: true });
const pipeline = 'demo';

const steps: Step[] = [
  { name: 'checkout', image: 'busybox', command: ['sh', '-c', `mkdir -p ${WORKSPACE}/src && printf 'hello from checkout\\n' > ${WORKSPACE}/src/greeting.txt && echo 'checked out 1 file'`] },
  {
    name: 'build',
    image: 'busybox',
    // The build reads its configuration from stdin: UTF-8, and no newline at the end.
    stdin: 'naïve config ✓\nlast line without newline',
    limits: { memoryBytes: 64 * 2 ** 20, cpuShares: 512 },
    command: ['sh', '-c', `cat ${WORKSPACE}/src/greeting.txt - > ${WORKSPACE}/app.txt && echo build >> ${WORKSPACE}/builds && echo "built $(wc -c < ${WORKSPACE}/app.txt) bytes" && echo 'warning: no build cache' >&2`],
  },
  { name: 'lint', image: 'busybox', user: '65534', allowFailure: true, command: ['sh', '-c', 'echo "lint as uid $(id -u)"; echo "lint: 1 problem" >&2; exit 3'] },
  { name: 'test', image: 'busybox', command: ['cat', `${WORKSPACE}/app.txt`] },
];

const driver = await createDriver(values.driver, { namespace: values.namespace });
const drivers = [driver];
const interrupt = new AbortController();
process.once('SIGINT', () => interrupt.abort(new Error('interrupted')));
let failed = false;
try {
  console.log(`pipeline ${pipeline} on ${driver.name}, namespace ${driver.namespace}`);
  const results = await new OrchestraRunner(driver, pipeline, logDir).runPipeline(steps, interrupt.signal);
  for (const result of results) {
    const allowed = result.exitCode !== 0 && steps.find((step) => step.name === result.name)?.allowFailure === true;
    const notes = [result.exitCode === null ? result.reason : undefined, allowed ? 'allowed to fail' : undefined, result.streams === 'combined' ? 'stdout and stderr combined by the cluster' : undefined].filter(Boolean);
    console.log(`  ${result.name.padEnd(8)} exit ${result.exitCode}${notes.length > 0 ? ` (${notes.join('; ')})` : ''}`);
    if (result.exitCode !== 0 && !allowed) failed = true;
  }

  // The engine restarted: a fresh driver of the same namespace runs `build` again by its task ID.
  const again = await createDriver(values.driver, { namespace: driver.namespace });
  drivers.push(again);
  const rerunDir = mkdtempSync(join(tmpdir(), 'orchestra-rerun-'));
  const rerun = await new OrchestraRunner(again, pipeline, rerunDir).run(steps[1]!, interrupt.signal);
  const same = (file: string) => readFileSync(join(logDir, file)).equals(readFileSync(join(rerunDir, file)));
  console.log(`re-run of build by task ID: exit ${rerun.exitCode}, logs ${same('build.stdout') && same('build.stderr') ? 'identical' : 'different'}`);
  const count = await new OrchestraRunner(again, pipeline, rerunDir).run({ name: 'count', image: 'busybox', command: ['sh', '-c', `wc -l < ${WORKSPACE}/builds`] }, interrupt.signal);
  console.log(`build ran ${readFileSync(join(rerunDir, 'count.stdout'), 'utf8').trim()} time(s) (count exit ${count.exitCode})`);
} finally {
  // Everything of the namespace goes: every step's container and the workspace volume.
  for (const each of drivers) await each.close();
  console.log(`closed namespace ${driver.namespace}; logs in ${logDir}`);
}
process.exitCode = failed ? 1 : 0;
