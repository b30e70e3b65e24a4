import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig, StorageV1Api } from '@kubernetes/client-node';
import { afterAll, describe, expect, it, inject } from 'vitest';
import { createDockerDriver } from '../../drivers/docker/index.js';
import { baseLabels, volumeName } from '../../drivers/docker/naming.js';
import { createK8sDriver } from '../../drivers/k8s/index.js';
import { createNativeDriver } from '../../drivers/native/index.js';
import { EngineError } from '../../src/errors.js';
import { LABELS } from '../../src/labels.js';
import type { Driver } from '../../src/types.js';
import { readTar } from '../conformance/helpers.js';
import { testNamespace } from '../setup/test-run.js';
import { docker } from './drivers.js';
import { tarOf } from '../support/tar.js';

// A volume of 1 MiB (a tmpfs) receives an archive of 3 MiB: the copy must fail with a typed
// error and never resolve as if it had succeeded; the volume takes a small archive afterwards.
const SIZE = 1024 * 1024;

/** A driver and, inside it, a volume that holds at most {@link SIZE} bytes; `release` undoes what the test set up outside the driver. */
interface SmallVolume {
  driver: Driver;
  volume: string;
  /** Whether the volume keeps its content between copies and can be read back (Docker's tmpfs volumes lose it when nothing mounts them). */
  keepsContent: boolean;
  release(): Promise<void>;
}

const setups: Array<[string, () => Promise<SmallVolume>]> = [
  [
    'docker',
    async () => {
      const namespace = testNamespace('full');
      // Made as the driver makes its volumes (name, labels), backed by a tmpfs: the driver adopts it.
      await docker.createVolume({
        Name: volumeName(namespace, 'small'),
        Labels: { ...baseLabels(namespace, 'volume'), [LABELS.volume]: 'small' },
        DriverOpts: { type: 'tmpfs', device: 'tmpfs', o: `size=${SIZE}` },
      });
      const driver = createDockerDriver({ namespace });
      return { driver, volume: 'small', keepsContent: false, release: async () => {} };
    },
  ],
  [
    'native',
    async () => {
      const root = mkdtempSync(join(tmpdir(), 'dt-full-'));
      const namespace = testNamespace('full');
      const driver = createNativeDriver({ namespace, root });
      roots.push(root);
      await driver.createVolume('small');
      const dir = join(root, namespace, 'volumes', 'small');
      execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${SIZE}`, 'tmpfs', dir]);
      return {
        driver,
        volume: 'small',
        keepsContent: true,
        release: async () => {
          execFileSync('umount', [dir]);
        },
      };
    },
  ],
  [
    'k8s',
    async () => {
      // The local cluster's provisioner backs a class with `medium: Memory` by a tmpfs of the claim's size.
      const kubeConfig = new KubeConfig();
      kubeConfig.loadFromFile(inject('kubeconfig'));
      const storage = kubeConfig.makeApiClient(StorageV1Api);
      const className = `dt-memory-${randomBytes(4).toString('hex')}`;
      await storage.createStorageClass({ body: { metadata: { name: className }, provisioner: 'drivetrain.dev/local-docker-volume', parameters: { medium: 'Memory' }, volumeBindingMode: 'Immediate' } });
      const driver = createK8sDriver({ kubeconfig: inject('kubeconfig'), namespace: testNamespace('full'), storageClassName: className });
      await driver.createVolume('small', { sizeBytes: SIZE });
      return { driver, volume: 'small', keepsContent: false, release: () => storage.deleteStorageClass({ name: className }).then(() => undefined) };
    },
  ],
];

const opened: SmallVolume[] = [];
const roots: string[] = [];
afterAll(async () => {
  for (const setup of opened.splice(0)) {
    // What the test set up goes first (the native volume's tmpfs is unmounted before close removes its directory).
    await setup.release();
    await setup.driver.close({ signal: AbortSignal.timeout(60_000) });
  }
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
}, 120_000);

describe.each(setups)('a full volume during copyToVolume: %s', (_name, setUp) => {
  it('the copy fails with EngineError ("no space left on device"), never success; nothing passed off as whole', async () => {
    const small = await setUp();
    opened.push(small);
    const { driver, volume } = small;
    const signal = AbortSignal.timeout(90_000);
    const big = randomBytes(3 * SIZE);
    const outcome = await driver.copyToVolume!(volume, tarOf([{ name: 'before.txt', content: 'before\n' }, { name: 'big.bin', content: big }]), { signal }).then(
      () => 'resolved',
      (error: unknown) => error,
    );
    expect(outcome).toBeInstanceOf(EngineError);
    expect((outcome as Error).message).toMatch(/no space left on device/i);
    if (small.keepsContent) {
      // What was written stays (the native driver extracts as the bytes come): the entry
      // before, whole, and the one that did not fit cut short — never passed off as whole.
      const files = await readTar(await driver.readFilesFromVolume!(volume, ['before.txt', 'big.bin'], { signal }));
      expect(files.get('before.txt')?.content.toString()).toBe('before\n');
      expect(files.get('big.bin')?.content.length ?? 0).toBeLessThan(big.length);
    } else {
      // Nothing of the failed copy is left (k8s extracts into a staging directory it removes; a
      // Docker tmpfs volume is empty once unmounted): a copy that fits succeeds.
      await driver.copyToVolume!(volume, tarOf([{ name: 'after.txt', content: 'after\n' }]), { signal });
    }
  }, 120_000);
});
