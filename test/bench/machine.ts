import { execFile } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** What the figures were measured on. */
export interface MachineInfo {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  node: string;
  docker: string;
  kernel: string;
}

/** Describes this machine: CPU, cores, memory, Node and Docker engine versions. */
export async function describeMachine(): Promise<MachineInfo> {
  const docker = await run('docker', ['version', '--format', '{{.Server.Version}}'], { timeout: 10_000 })
    .then((r) => r.stdout.trim())
    .catch(() => 'unavailable');
  const kernel = await run('uname', ['-r'], { timeout: 5_000 })
    .then((r) => r.stdout.trim())
    .catch(() => 'unknown');
  const cpu = cpus();
  return {
    cpuModel: cpu[0]?.model.trim() ?? 'unknown',
    cores: cpu.length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    docker,
    kernel,
  };
}
