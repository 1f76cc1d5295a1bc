import { readFileSync } from 'node:fs';
import { getHeapSpaceStatistics } from 'node:v8';

/** Bytes by name: rss, anon/file RSS, V8 heap spaces (committed and used), external, array buffers. */
export type MemorySample = Record<string, number>;

/** This process's memory, split the way rss-per-terminal reports it (answered by the baselines over IPC). */
export function ownMemory(): MemorySample {
  const mu = process.memoryUsage();
  const out: MemorySample = {
    'heap committed': mu.heapTotal,
    'heap used': mu.heapUsed,
    external: mu.external,
    'array buffers': mu.arrayBuffers,
  };
  for (const s of getHeapSpaceStatistics()) {
    const name = s.space_name.replace(/_space$/, '');
    out[`committed ${name}`] = s.space_size;
    out[`used ${name}`] = s.space_used_size;
  }
  return out;
}

/** The product's memory from its /metrics (prom-client's default Node metrics). */
export function memoryFromMetrics(text: string): MemorySample {
  const out: MemorySample = {};
  for (const line of text.split('\n')) {
    const m = /^nodejs_heap_space_size_(total|used)_bytes\{space="([a-z_]+)"\} ([0-9.e+]+)/.exec(line);
    if (m) out[`${m[1] === 'total' ? 'committed' : 'used'} ${m[2]}`] = Number(m[3]);
    const e = /^nodejs_(external_memory_bytes|heap_size_total_bytes|heap_size_used_bytes) ([0-9.e+]+)/.exec(line);
    if (e) {
      const key = { external_memory_bytes: 'external', heap_size_total_bytes: 'heap committed' }[e[1]] ?? 'heap used';
      out[key] = Number(e[2]);
    }
  }
  return out;
}

/** Resident memory of any process: total, anonymous (heap, malloc, stacks) and file-backed (code). */
export function residentOf(pid: number): MemorySample {
  const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0) * 1024;
  const rss = kb('Rss');
  const anon = kb('Anonymous');
  return { rss, 'rss anonymous': anon, 'rss file': rss - anon };
}

/**
 * Native memory outside V8's heap and its external buffers: malloc'd by Node, libuv, OpenSSL,
 * socket state (anonymous RSS - committed heap - external).
 */
export function withNative(s: MemorySample): MemorySample {
  if (s['rss anonymous'] !== undefined && s['heap committed'] !== undefined && s.external !== undefined) {
    s['native (anon - heap - external)'] = s['rss anonymous'] - s['heap committed'] - s.external;
  }
  return s;
}
