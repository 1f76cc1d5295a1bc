import { cpus, freemem, totalmem, platform, release } from 'node:os';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  memoryMB: number;
  freeMemoryMB: number;
  os: string;
  node: string;
  fdLimit: number | null;
  loadAverage: string | null;
  database: string;
  /** The code measured: commit, and whether the working tree had uncommitted changes (dist/ is built from it). */
  git: { commit: string; dirty: boolean } | null;
}

function gitState(): MachineInfo['git'] {
  try {
    const opts = { encoding: 'utf8' as const, stdio: ['ignore', 'pipe', 'ignore'] as ['ignore', 'pipe', 'ignore'] };
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], opts).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src', 'libs'], opts).trim().length > 0;
    return { commit, dirty };
  } catch {
    return null;
  }
}

function fdLimit(): number | null {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const n = line ? Number(line.split(/\s+/)[3]) : NaN;
    return Number.isFinite(n) ? n : null;
  } catch {
    return null;
  }
}

export function machineInfo(): MachineInfo {
  const list = cpus();
  let load: string | null = null;
  try {
    load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  } catch {
    load = null;
  }
  return {
    cpuModel: list[0]?.model ?? 'unknown',
    cores: list.length,
    memoryMB: Math.round(totalmem() / 2 ** 20),
    freeMemoryMB: Math.round(freemem() / 2 ** 20),
    os: `${platform()} ${release()}`,
    node: process.version,
    fdLimit: fdLimit(),
    loadAverage: load,
    database: process.env.MONGODB_URI ? 'MongoDB (MONGODB_URI)' : 'embedded (libs/embedded-mongo)',
    git: gitState(),
  };
}
