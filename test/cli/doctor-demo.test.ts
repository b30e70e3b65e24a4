import { describe, expect, it } from 'vitest';
import { runCli } from './helpers.js';

// Every case spawns the CLI through tsx, slow on a busy machine: a generous budget per case.
describe('drivetrain doctor and demo', { timeout: 150_000 }, () => {
  it('doctor reports the Docker engine, its version and the test image', async () => {
    const result = await runCli(['doctor', '--driver', 'docker']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^ok {3}engine: answers/m);
    expect(result.stdout).toMatch(/^ok {3}version: Docker \d+\.\d+/m);
    expect(result.stdout).toMatch(/^ok {3}test image: busybox:latest present/m);
  });

  it('doctor fails (exit 1) when no engine answers', async () => {
    const result = await runCli(['doctor'], { env: { DOCKER_HOST: 'unix:///nonexistent/docker.sock' } });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^FAIL engine: no answer/m);
  });

  it('demo runs echo hello through docker when an engine answers', async () => {
    const result = await runCli(['demo']);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('driver: docker\noutput: hello\nexit code: 0\n');
  });

  it('demo falls back to the native driver without an engine', async () => {
    const result = await runCli(['demo'], { env: { DOCKER_HOST: 'unix:///nonexistent/docker.sock' } });
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('driver: native\noutput: hello\nexit code: 0\n');
  });
});
