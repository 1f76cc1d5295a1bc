import { readFileSync, readdirSync, renameSync, statSync } from 'node:fs';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
  nodes: number[];
  strings: string[];
}

function load(file: string): Snapshot {
  return JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
}

/** Sum of the self sizes of every node of a heap snapshot, in bytes. */
export function heapBytes(file: string): number {
  const snap = load(file);
  const fields = snap.snapshot.meta.node_fields;
  const self = fields.indexOf('self_size');
  let total = 0;
  for (let i = 0; i < snap.nodes.length; i += fields.length) total += snap.nodes[i + self];
  return total;
}

/** Self sizes and counts by node type and name (constructor for objects), in bytes. */
export function heapByName(file: string): Map<string, { bytes: number; count: number }> {
  const snap = load(file);
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const [typeAt, nameAt, selfAt] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f));
  const out = new Map<string, { bytes: number; count: number }>();
  for (let i = 0; i < snap.nodes.length; i += fields.length) {
    const type = types[snap.nodes[i + typeAt]];
    const name = type === 'object' || type === 'closure' ? snap.strings[snap.nodes[i + nameAt]] : '';
    const key = `${type}${name ? ` ${name.slice(0, 60)}` : ''}`;
    const e = out.get(key) ?? { bytes: 0, count: 0 };
    e.bytes += snap.nodes[i + selfAt];
    e.count++;
    out.set(key, e);
  }
  return out;
}

/** Asks a process started with --heapsnapshot-signal=SIGUSR2 for a snapshot; returns its file once written. */
export async function takeSnapshot(pid: number, dir: string, label: string): Promise<string> {
  const before = new Set(readdirSync(dir));
  process.kill(pid, 'SIGUSR2');
  for (let i = 0; i < 180; i++) {
    await sleep(1000);
    const found = readdirSync(dir).find((f) => f.endsWith('.heapsnapshot') && !before.has(f));
    if (!found) continue;
    const size = statSync(`${dir}/${found}`).size;
    await sleep(1500);
    // Written in pieces: done when the size holds and the text ends the JSON document.
    if (statSync(`${dir}/${found}`).size === size && readFileSync(`${dir}/${found}`, 'utf8').trimEnd().endsWith('}')) {
      const to = `${dir}/${label}.heapsnapshot`;
      renameSync(`${dir}/${found}`, to);
      return to;
    }
  }
  throw new Error(`no heap snapshot from ${pid}`);
}
