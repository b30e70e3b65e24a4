import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sandboxContainerName, taskContainerName, volumeName as dockerVolumeName } from '../../drivers/docker/naming.js';
import { claimName, helperPodName, taskObjectName } from '../../drivers/k8s/naming.js';
import { defaultWorkDir, shortHash, toDnsLabel } from '../../src/names.js';
import { toLabelValue } from '../../drivers/k8s/naming.js';
import { validateTaskId, validateVolumeName } from '../../src/validate.js';
import { accepts, anyString, distinctPair, namespace, shiftedBoundary, taskId, trickyString, volumeName, wellFormed } from './arbitraries.js';
import { InvalidInputError } from '../../src/errors.js';
import { checkProperty } from './budget.js';

/** Kubernetes object names of the kinds the driver makes (apimachinery IsDNS1123Label). */
const DNS_1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** Kubernetes label values (apimachinery IsValidLabelValue). */
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
/** Docker container names (moby daemon/names validContainerNamePattern). */
const DOCKER_CONTAINER_NAME = /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;
/** Docker local volume names (moby volume/local validName). */
const DOCKER_VOLUME_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

const maxLength = fc.integer({ min: 12, max: 63 });

describe('toDnsLabel', () => {
  it('always gives a DNS-1123 label within the length asked for', async () => {
    await checkProperty('toDnsLabel: valid DNS-1123 label', 'pure', fc.property(fc.oneof(anyString(), trickyString(100)), maxLength, (raw, max) => {
      const name = toDnsLabel(raw, max);
      return DNS_1123_LABEL.test(name) && name.length <= max;
    }));
  });

  it('never maps two strings to one label', async () => {
    await checkProperty('toDnsLabel: injective', 'pure', fc.property(distinctPair(wellFormed(fc.oneof(trickyString(), anyString(20)))), ([a, b]) => toDnsLabel(a) !== toDnsLabel(b)));
  });

  it('never gives a changed string the label an unchanged string keeps', async () => {
    // The adversarial pair: an ID spelled as another ID's sanitised name.
    await checkProperty('toDnsLabel: sanitised names are not other IDs', 'pure', fc.property(fc.oneof(trickyString(), anyString(70)), (raw) => {
      const name = toDnsLabel(raw);
      return name === raw || toDnsLabel(name) !== name;
    }));
  });

  it('regression: an ID with a lone surrogate is refused, as it would share the name of the ID with U+FFFD in its place', () => {
    expect(toDnsLabel('a\uD800')).toBe(toDnsLabel('a\uFFFD'));
    expect(() => validateTaskId('a\uD800')).toThrow(InvalidInputError);
    expect(() => validateTaskId('a\uFFFD')).not.toThrow();
  });

  it('regression: an ID spelled like another ID\'s hashed name gets a name of its own', () => {
    const hashedName = toDnsLabel('A');
    expect(hashedName).toBe(`a-${shortHash('A')}`);
    expect(toDnsLabel(hashedName)).not.toBe(hashedName);
    // A plain ID ending in ten hex digits is still a valid, distinct label.
    expect(toDnsLabel('run-1700000000')).toMatch(DNS_1123_LABEL);
    expect(toDnsLabel('run-1700000000')).not.toBe(toDnsLabel('run-1700000001'));
  });
});

describe('toLabelValue', () => {
  it('always gives a Kubernetes label value', async () => {
    await checkProperty('toLabelValue: valid label value', 'pure', fc.property(fc.oneof(anyString(), trickyString(100)), (raw) => {
      const value = toLabelValue(raw);
      return LABEL_VALUE.test(value) && value.length <= 63;
    }));
  });

  it('never maps two strings to one value', async () => {
    await checkProperty('toLabelValue: injective', 'pure', fc.property(distinctPair(wellFormed(fc.oneof(trickyString(), anyString(20)))), ([a, b]) => toLabelValue(a) !== toLabelValue(b)));
  });

  it('never gives a changed string the value an unchanged string keeps', async () => {
    await checkProperty('toLabelValue: sanitised values are not other strings', 'pure', fc.property(fc.oneof(trickyString(), anyString(70)), (raw) => {
      const value = toLabelValue(raw);
      return value === raw || toLabelValue(value) !== value;
    }));
  });

  it('regression: a value spelled like another value\'s hashed form stays apart', () => {
    const hashed = toLabelValue('a/b');
    expect(toLabelValue(hashed)).not.toBe(hashed);
  });
});

const pairOfTasks = fc.oneof(
  distinctPair(fc.tuple(namespace(), taskId()), ([n1, i1], [n2, i2]) => n1 === n2 && i1 === i2),
  shiftedBoundary(trickyString(), (id) => accepts(validateTaskId, id)),
);
const pairOfVolumes = fc.oneof(
  distinctPair(fc.tuple(namespace(), volumeName()), ([n1, v1], [n2, v2]) => n1 === n2 && v1 === v2),
  shiftedBoundary(volumeName(), (name) => accepts(validateVolumeName, name)),
);

describe('Docker names', () => {
  it('are valid container and volume names', async () => {
    await checkProperty('docker names: valid for the engine', 'pure', fc.property(namespace(), taskId(), volumeName(), (ns, id, volume) => {
      return DOCKER_CONTAINER_NAME.test(taskContainerName(ns, id)) && DOCKER_CONTAINER_NAME.test(sandboxContainerName(ns, id)) && DOCKER_VOLUME_NAME.test(dockerVolumeName(ns, volume));
    }));
  });

  it('never give two tasks, sandboxes or volumes of any namespaces one name', async () => {
    await checkProperty('docker names: injective over (namespace, id)', 'pure', fc.property(pairOfTasks, pairOfVolumes, ([[n1, i1], [n2, i2]], [[m1, v1], [m2, v2]]) => {
      return (
        taskContainerName(n1, i1) !== taskContainerName(n2, i2) &&
        sandboxContainerName(n1, i1) !== sandboxContainerName(n2, i2) &&
        taskContainerName(n1, i1) !== sandboxContainerName(n2, i2) &&
        dockerVolumeName(m1, v1) !== dockerVolumeName(m2, v2)
      );
    }));
  });

  it('regression: a namespace that ends where another one\'s task ID begins', () => {
    expect(taskContainerName('ci', 'main-build')).not.toBe(taskContainerName('ci-main', 'build'));
    expect(dockerVolumeName('ci', 'main-cache')).not.toBe(dockerVolumeName('ci-main', 'cache'));
  });
});

describe('Kubernetes names', () => {
  const nonce = fc.stringMatching(/^[0-9a-f]{8}$/);

  it('are DNS-1123 labels', async () => {
    await checkProperty('k8s names: valid DNS-1123 labels', 'pure', fc.property(namespace(), taskId(), volumeName(), nonce, (ns, id, volume, n) => {
      return [taskObjectName(ns, id), claimName(ns, volume), helperPodName(ns, n)].every((name) => DNS_1123_LABEL.test(name) && name.length <= 63);
    }));
  });

  it('never give two tasks, claims or helpers of any namespaces one name', async () => {
    await checkProperty('k8s names: injective over (namespace, id)', 'pure', fc.property(pairOfTasks, pairOfVolumes, nonce, ([[n1, i1], [n2, i2]], [[m1, v1], [m2, v2]], n) => {
      return taskObjectName(n1, i1) !== taskObjectName(n2, i2) && claimName(m1, v1) !== claimName(m2, v2) && helperPodName(m1, n) !== taskObjectName(n1, i1);
    }));
  });

  it('regression: namespace and ID boundaries, and a task ID shaped like a helper', () => {
    expect(taskObjectName('ci', 'main-build')).not.toBe(taskObjectName('ci-main', 'build'));
    expect(claimName('ci', 'main-cache')).not.toBe(claimName('ci-main', 'cache'));
    // Before, `dt-<namespace>-helper-<hash>-<nonce>` was also the pod of task `helper-<hash>-<nonce>`.
    const helper = helperPodName('ci', '0123abcd');
    expect(taskObjectName('ci', helper.slice('dt-ci--'.length))).not.toBe(helper);
  });
});

describe('default working directories', () => {
  it('are distinct per task ID and single path segments', async () => {
    await checkProperty('defaultWorkDir: injective, one segment', 'pure', fc.property(distinctPair(taskId()), ([a, b]) => {
      const dir = defaultWorkDir(a);
      return dir !== defaultWorkDir(b) && /^\/tmp\/drivetrain\/[a-z0-9-]+$/.test(dir);
    }));
  });
});
