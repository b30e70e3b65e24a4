import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../src/errors.js';
import { normaliseRegistry, parseImageReference, registryServerAddress } from '../../src/image-reference.js';

describe('parseImageReference', () => {
  it.each([
    ['busybox', { registry: 'docker.io', repository: 'library/busybox', tag: undefined, digest: undefined, name: 'busybox' }],
    ['busybox:1.36', { registry: 'docker.io', repository: 'library/busybox', tag: '1.36', name: 'busybox' }],
    ['org/app:v1', { registry: 'docker.io', repository: 'org/app', tag: 'v1', name: 'org/app' }],
    ['docker.io/library/busybox', { registry: 'docker.io', repository: 'library/busybox', name: 'docker.io/library/busybox' }],
    ['index.docker.io/org/app', { registry: 'docker.io', repository: 'org/app' }],
    ['127.0.0.1:5000/app:v2', { registry: '127.0.0.1:5000', repository: 'app', tag: 'v2', name: '127.0.0.1:5000/app' }],
    ['localhost/team/app', { registry: 'localhost', repository: 'team/app', tag: undefined }],
    ['ghcr.io/org/app@sha256:' + 'a'.repeat(64), { registry: 'ghcr.io', repository: 'org/app', tag: undefined, digest: 'sha256:' + 'a'.repeat(64) }],
    ['registry.example:5000/a/b:c@sha256:' + 'b'.repeat(64), { registry: 'registry.example:5000', repository: 'a/b', tag: 'c', name: 'registry.example:5000/a/b' }],
  ])('%s', (image, expected) => {
    expect(parseImageReference(image)).toMatchObject(expected);
  });

  it('rejects what Docker rejects, naming the field', () => {
    for (const bad of ['', 'Busybox', 'a b', 'app:', 'ghcr.io/org/app@sha256:short']) {
      expect(() => parseImageReference(bad, 'target')).toThrow(InvalidInputError);
    }
  });
});

describe('normaliseRegistry', () => {
  it.each([
    ['ghcr.io', 'ghcr.io'],
    ['https://ghcr.io/v2/', 'ghcr.io'],
    ['HTTP://Registry.Example:5000', 'registry.example:5000'],
    ['https://index.docker.io/v1/', 'docker.io'],
    ['registry-1.docker.io', 'docker.io'],
    ['127.0.0.1:5000/v2/', '127.0.0.1:5000'],
  ])('%s → %s', (given, expected) => {
    expect(normaliseRegistry(given)).toBe(expected);
  });

  it('keys Docker Hub by its index address, others by host', () => {
    expect(registryServerAddress('docker.io')).toBe('https://index.docker.io/v1/');
    expect(registryServerAddress('127.0.0.1:5000')).toBe('127.0.0.1:5000');
  });

  it('rejects what is no host', () => {
    for (const bad of ['', '   ', 'a b', 'host:port', 'https://']) expect(() => normaliseRegistry(bad)).toThrow(InvalidInputError);
  });
});
