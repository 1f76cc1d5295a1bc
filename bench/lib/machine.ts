import { cpus, freemem, totalmem, platform, release } from 'node:os';
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
  };
}
