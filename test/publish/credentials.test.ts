import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toDockerConfigJson, validateCredentials } from '../../src/credentials.js';
import { readDockerCredentials } from '../../src/docker-config.js';
import { CredentialsError, InvalidInputError } from '../../src/errors.js';

/**
 * Registry credentials read as Docker's client reads them: `DOCKER_AUTH_CONFIG`, the
 * config file's `auths`, and credential helpers — real `docker-credential-*` programs
 * (small shell scripts speaking the helper protocol) found on a PATH of the test's own.
 */

let dir: string;
const basic = (user: string, password: string): string => Buffer.from(`${user}:${password}`).toString('base64');

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'drivetrain-creds-'));
  // A helper that knows two servers, read from stdin as the protocol has it.
  await helper('dttest', `server=$(cat)
case "$server" in
  reg.example:5000) echo '{"ServerURL":"reg.example:5000","Username":"helper-user","Secret":"helper-pass"}' ;;
  https://index.docker.io/v1/) echo '{"ServerURL":"https://index.docker.io/v1/","Username":"<token>","Secret":"refresh-token"}' ;;
  *) echo 'credentials not found in native keychain'; exit 1 ;;
esac`);
  await helper('dtbroken', 'cat >/dev/null; echo "keychain is locked" >&2; exit 3');
  await helper('dtslow', 'exec sleep 30');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function helper(name: string, body: string): Promise<void> {
  const path = join(dir, `docker-credential-${name}`);
  await writeFile(path, `#!/bin/sh\n${body}\n`);
  await chmod(path, 0o755);
}

async function config(content: unknown): Promise<string> {
  const path = join(dir, `config-${Math.random().toString(16).slice(2)}.json`);
  await writeFile(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

const env = (): NodeJS.ProcessEnv => ({ PATH: `${dir}:/usr/bin:/bin` });

describe('readDockerCredentials', () => {
  it('reads auths: `auth` over username/password, keys with a scheme or path, Docker Hub under its index address', async () => {
    const configPath = await config({
      auths: {
        'https://reg.example:5000/v2/': { auth: basic('from-auth', 'p:with:colons'), username: 'ignored', password: 'ignored' },
        'plain.example': { username: 'u', password: 'p' },
        'https://index.docker.io/v1/': { auth: basic('hub', 'hubpass') },
        'token.example': { identitytoken: 'idt' },
        'empty.example': {},
      },
    });
    const read = (registry: string) => readDockerCredentials(registry, { configPath, env: env() });
    expect(await read('reg.example:5000')).toEqual({ registry: 'reg.example:5000', username: 'from-auth', password: 'p:with:colons' });
    expect(await read('https://plain.example')).toEqual({ registry: 'plain.example', username: 'u', password: 'p' });
    expect(await read('docker.io')).toEqual({ registry: 'docker.io', username: 'hub', password: 'hubpass' });
    expect(await read('index.docker.io')).toEqual({ registry: 'docker.io', username: 'hub', password: 'hubpass' });
    expect(await read('token.example')).toEqual({ registry: 'token.example', identityToken: 'idt' });
    expect(await read('empty.example')).toBeUndefined();
    expect(await read('other.example')).toBeUndefined();
  });

  it('a missing file is no credentials; a broken file or entry is CredentialsError naming the file', async () => {
    expect(await readDockerCredentials('reg.example:5000', { configPath: join(dir, 'absent.json'), env: env() })).toBeUndefined();
    const notJson = await config('{ "auths": ');
    await expect(readDockerCredentials('reg.example:5000', { configPath: notJson, env: env() })).rejects.toMatchObject({ name: 'CredentialsError', code: 'ERR_CREDENTIALS', source: notJson });
    const badAuth = await config({ auths: { 'reg.example:5000': { auth: basic('', 'nouser').slice(0, 4) } } });
    await expect(readDockerCredentials('reg.example:5000', { configPath: badAuth, env: env() })).rejects.toThrow(/auth is not base64 of "username:password"/);
    await expect(readDockerCredentials('', { env: env() })).rejects.toBeInstanceOf(InvalidInputError);
  });

  it('DOCKER_AUTH_CONFIG wins when it has the registry, else the file is read', async () => {
    const configPath = await config({ auths: { 'reg.example:5000': { auth: basic('file', 'f') }, 'only-file.example': { auth: basic('file', 'f') } } });
    const withEnv = { ...env(), DOCKER_AUTH_CONFIG: JSON.stringify({ auths: { 'reg.example:5000': { auth: basic('env', 'e') } } }) };
    expect(await readDockerCredentials('reg.example:5000', { configPath, env: withEnv })).toMatchObject({ username: 'env', password: 'e' });
    expect(await readDockerCredentials('only-file.example', { configPath, env: withEnv })).toMatchObject({ username: 'file' });
  });

  it('runs the credsStore helper with the server address on stdin; credHelpers wins for its registry; auths are then not read', async () => {
    const configPath = await config({ credsStore: 'dttest', credHelpers: { 'special.example': 'dtbroken' }, auths: { 'reg.example:5000': { auth: basic('file', 'f') } } });
    const read = (registry: string) => readDockerCredentials(registry, { configPath, env: env() });
    expect(await read('reg.example:5000')).toEqual({ registry: 'reg.example:5000', username: 'helper-user', password: 'helper-pass' });
    expect(await read('docker.io')).toEqual({ registry: 'docker.io', identityToken: 'refresh-token' });
    // The protocol's "not found" answer means anonymous, not a failure.
    expect(await read('unknown.example')).toBeUndefined();
    const failing = await read('special.example').then(() => undefined, (e: unknown) => e);
    expect(failing).toBeInstanceOf(CredentialsError);
    expect((failing as Error).message).toBe('the credential helper docker-credential-dtbroken failed (exit code 3): keychain is locked');
  });

  it('a helper that is not installed, not a program name, or too slow is CredentialsError saying what to do', async () => {
    const missing = await config({ credsStore: 'desktop' });
    await expect(readDockerCredentials('reg.example:5000', { configPath: missing, env: env() })).rejects.toThrow(
      `${missing} names the credential helper docker-credential-desktop, which is not on PATH: install it, or pass credentials explicitly`,
    );
    const path = await config({ credsStore: '../../tmp/evil' });
    await expect(readDockerCredentials('reg.example:5000', { configPath: path, env: env() })).rejects.toThrow(/which is not a program name/);
    const slow = await config({ credsStore: 'dtslow' });
    await expect(readDockerCredentials('reg.example:5000', { configPath: slow, env: env(), helperTimeoutMs: 200 })).rejects.toThrow('did not answer within 200 ms');
    const controller = new AbortController();
    const aborted = readDockerCredentials('reg.example:5000', { configPath: slow, env: env(), signal: controller.signal });
    setTimeout(() => controller.abort(new Error('no credentials needed')), 50);
    await expect(aborted).rejects.toThrow('no credentials needed');
  });
});

describe('credentials for pull secrets', () => {
  it('toDockerConfigJson keys each registry as kubectl and docker do, with auth', () => {
    const json = JSON.parse(toDockerConfigJson([
      { registry: '127.0.0.1:5000', username: 'u', password: 'p:w' },
      { registry: 'https://index.docker.io/v1/', username: 'hub', password: 'h' },
    ]));
    expect(json).toEqual({
      auths: {
        '127.0.0.1:5000': { username: 'u', password: 'p:w', auth: basic('u', 'p:w') },
        'https://index.docker.io/v1/': { username: 'hub', password: 'h', auth: basic('hub', 'h') },
      },
    });
  });

  it('refuses what a pull secret cannot hold, never echoing secret values', () => {
    expect(() => toDockerConfigJson([{ registry: 'r.example', identityToken: 'secret-token' }])).toThrow(/cannot carry an identity token/);
    expect(() => toDockerConfigJson([{ registry: 'r.example', username: 'a', password: 'b' }, { registry: 'https://r.example', username: 'c', password: 'd' }])).toThrow(/one entry per registry/);
    expect(() => validateCredentials({ registry: 'r.example', username: 'a' })).toThrow(InvalidInputError);
    const error = (() => {
      try {
        validateCredentials({ registry: 'r.example', username: 'a', password: 'top\0secret' });
      } catch (e) {
        return e as Error;
      }
    })();
    expect(error?.message).toContain('credentials.password');
    expect(error?.message).not.toContain('secret');
  });
});
