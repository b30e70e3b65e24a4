import { randomBytes } from 'node:crypto';
import { testNamespace } from '../setup/test-run.js';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach } from 'vitest';
import { createNativeDriver, type NativeDriverOptions } from '../../drivers/native/index.js';
import { CollectingWritable } from '../../src/logs.js';
import type { Container, ContainerStatus, Driver, Task } from '../../src/types.js';

/**
 * A private driver root for one test file, and drivers that are closed after each
 * case; the root is removed after the file.
 */
export function nativeFixture(): {
  root: string;
  driver(options?: Partial<NativeDriverOptions>): Promise<Driver>;
  namespace(): string;
  id(prefix: string): string;
} {
  const root = mkdtempSync(join(tmpdir(), 'drivetrain-native-test-'));
  const open: Driver[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((d) => d.close({ signal: AbortSignal.timeout(20_000) })));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const namespace = (): string => testNamespace('nt');
  return {
    root,
    namespace,
    id: (prefix) => `${prefix}-${randomBytes(4).toString('hex')}`,
    driver: async (options = {}) => {
      const driver = await createNativeDriver({ namespace: namespace(), root, ...options });
      open.push(driver);
      return driver;
    },
  };
}

/** A task of the (ignored) image `busybox`. */
export function task(id: string, command: readonly string[], settings: Omit<Partial<Task>, 'id' | 'command'> = {}): Task {
  return { image: 'busybox', ...settings, id, command };
}

/** Runs a task to its end and reads its output. */
export async function runToEnd(driver: Driver, t: Task): Promise<{ container: Container; status: ContainerStatus; stdout: string; stderr: string }> {
  const signal = AbortSignal.timeout(20_000);
  const container = await driver.runContainer(t, { signal });
  const status = await container.wait({ signal });
  const stdout = new CollectingWritable();
  const stderr = new CollectingWritable();
  await container.logs({ stdout, stderr, signal });
  return { container, status, stdout: stdout.text(), stderr: stderr.text() };
}

/** True while a process of that pid exists and is not a zombie. */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}
