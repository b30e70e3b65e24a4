import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import Dockerode from 'dockerode';
import { CollectingWritable } from '../../src/logs.js';
import { LABELS } from '../../src/labels.js';
import { createDockerDriver } from '../../drivers/docker/index.js';
import type { DockerDriver } from '../../drivers/docker/driver.js';
import { TEST_RUN_VARIABLE, testNamespace } from '../setup/test-run.js';

/**
 * The Docker baselines the driver is compared with, and the driver's own round trip.
 * Every container made here carries the drivetrain labels of a bench namespace, so a
 * run that is interrupted leaves nothing the leak check cannot see, and `close` of the
 * bench's driver reaps the baselines' leftovers too.
 */

/** The image every Docker measure runs (the local test image; nothing is pulled). */
export const BENCH_IMAGE = 'busybox';

/**
 * A random drivetrain namespace for one measure; inside a test run (the bench smoke
 * tests), one of that run, so that its leak check judges what the measure left.
 */
export function benchNamespace(measure: string): string {
  const name = `bench-${measure.toLowerCase()}`;
  return process.env[TEST_RUN_VARIABLE] === undefined ? `${name}-${randomBytes(3).toString('hex')}` : testNamespace(name);
}

/** A fresh task ID. */
export function taskId(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

/** The engine client the baselines use (its own connection pool, like any other client). */
export function engineClient(): Dockerode {
  return new Dockerode();
}

/** A Docker driver for a measure; close it when done. */
export function benchDriver(namespace: string): DockerDriver {
  return createDockerDriver({ namespace }) as DockerDriver;
}

function labels(namespace: string): Record<string, string> {
  return { [LABELS.managed]: 'true', [LABELS.namespace]: namespace, [LABELS.role]: 'task' };
}

/** Result of running a program: its exit code and what it printed. */
export interface ProcessResult {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

/** Runs a program, collecting its output; rejects after `timeoutMs`. */
export function runProcess(command: string, args: readonly string[], timeoutMs = 60_000, env?: NodeJS.ProcessEnv): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: env ?? process.env });
    const out: Buffer[] = [];
    let err = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} ${args.join(' ')} did not finish within ${timeoutMs} ms`));
    }, timeoutMs);
    timer.unref();
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out), stderr: err });
    });
  });
}

function expectHello(what: string, stdout: string): void {
  if (stdout !== 'hello\n') throw new Error(`${what} printed ${JSON.stringify(stdout)} instead of "hello\\n"`);
}

/** `docker run --rm busybox echo hello` through the CLI. */
export async function cliEcho(namespace: string): Promise<void> {
  const labelArgs = Object.entries(labels(namespace)).flatMap(([k, v]) => ['--label', `${k}=${v}`]);
  const result = await runProcess('docker', ['run', '--rm', ...labelArgs, BENCH_IMAGE, 'echo', 'hello']);
  if (result.code !== 0) throw new Error(`docker run exited with ${result.code}: ${result.stderr}`);
  expectHello('docker run', result.stdout.toString('utf8'));
}

/** The bare engine sequence through dockerode: create → start → wait → logs → remove. */
export async function bareEcho(docker: Dockerode, namespace: string): Promise<void> {
  const container = await docker.createContainer({ Image: BENCH_IMAGE, Cmd: ['echo', 'hello'], Labels: labels(namespace) });
  try {
    await container.start();
    const exit = (await container.wait()) as { StatusCode: number };
    if (exit.StatusCode !== 0) throw new Error(`bare container exited with ${exit.StatusCode}`);
    const raw = (await container.logs({ stdout: true, stderr: true, follow: false })) as unknown as Buffer;
    // Multiplexed frames: an 8-byte header before each payload.
    expectHello('bare sequence', demuxText(raw));
  } finally {
    await container.remove({ force: true });
  }
}

/** The payload of Docker's multiplexed log frames, stdout and stderr together. */
export function demuxText(raw: Buffer): string {
  const parts: Buffer[] = [];
  for (let offset = 0; offset + 8 <= raw.length; ) {
    const size = raw.readUInt32BE(offset + 4);
    parts.push(raw.subarray(offset + 8, offset + 8 + size));
    offset += 8 + size;
  }
  return Buffer.concat(parts).toString('utf8');
}

/**
 * The engine's own cost of running the task: create → start → wait, timed (in ms);
 * the container is removed afterwards, untimed. No client does less.
 */
export async function engineFloor(docker: Dockerode, namespace: string): Promise<number> {
  const start = performance.now();
  const container = await docker.createContainer({ Image: BENCH_IMAGE, Cmd: ['echo', 'hello'], Labels: labels(namespace) });
  try {
    await container.start();
    const exit = (await container.wait()) as { StatusCode: number };
    const ms = performance.now() - start;
    if (exit.StatusCode !== 0) throw new Error(`floor container exited with ${exit.StatusCode}`);
    return ms;
  } finally {
    await container.remove({ force: true });
  }
}

/** The driver's round trip: runContainer → wait → logs → cleanup. */
export async function driverEcho(driver: DockerDriver, id = taskId('echo')): Promise<void> {
  const container = await driver.runContainer({ id, image: BENCH_IMAGE, command: ['echo', 'hello'] });
  try {
    const status = await container.wait({ signal: AbortSignal.timeout(60_000) });
    if (status.exitCode !== 0) throw new Error(`driver task ended with ${JSON.stringify(status)}`);
    const stdout = new CollectingWritable();
    await container.logs({ stdout, signal: AbortSignal.timeout(60_000) });
    expectHello('driver round trip', stdout.text());
  } finally {
    await container.cleanup();
  }
}

/** Runs `count` copies of `fn` at once and returns the wall time until all are done, in ms. */
export async function concurrently(count: number, fn: (index: number) => Promise<void>): Promise<number> {
  const start = performance.now();
  await Promise.all(Array.from({ length: count }, (_, i) => fn(i)));
  return performance.now() - start;
}
