// Runs a workflow's jobs on runner pods: `node main.ts --driver docker|k8s [--workflow FILE] [--namespace NS] [--image IMAGE] [--image-pull-secret NAME]… [--pod-timeout S]`.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { randomNamespace } from 'drivetrain';
import { ActRunner, type RunnerConfig, type Workflow } from './runner.ts';

const { values } = parseArgs({
  options: {
    driver: { type: 'string', default: 'docker' },
    workflow: { type: 'string', default: new URL('workflow.json', import.meta.url).pathname },
    namespace: { type: 'string', default: randomNamespace() },
    image: { type: 'string', default: 'busybox' },
    'image-pull-secret': { type: 'string', multiple: true, default: [] },
    'pod-timeout': { type: 'string', default: '300' },
  },
});
if (values.driver !== 'docker' && values.driver !== 'k8s') {
  console.error('usage: main.ts --driver docker|k8s [--workflow FILE] [--namespace NS] [--image IMAGE] [--image-pull-secret NAME]… [--pod-timeout SECONDS]');
  process.exit(2);
}
const workflow = JSON.parse(readFileSync(values.workflow, 'utf8')) as Workflow;
const config: RunnerConfig = { driver: values.driver, namespace: values.namespace, image: values.image, imagePullSecrets: values['image-pull-secret'], podTimeout: Number(values['pod-timeout']) };

const interrupt = new AbortController();
process.once('SIGINT', () => interrupt.abort(new Error('interrupted')));
const runner = new ActRunner(config, (line) => console.log(line));
let succeeded = false;
try {
  console.log(`[${workflow.name}] on ${config.driver}, run ${config.namespace}, image ${config.image}`);
  succeeded = await runner.runWorkflow(workflow, interrupt.signal);
} catch (error) {
  console.error(`act-runner: ${(error as Error).message}`);
} finally {
  await runner.close();
}
console.log(`[${workflow.name}] 🏁 workflow ${succeeded ? 'succeeded' : 'failed'}`);
process.exitCode = succeeded ? 0 : 1;
