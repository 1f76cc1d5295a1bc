/**
 * Live JS heap per registered terminal (heap snapshots force a full GC, so garbage and heap headroom
 * are not counted, unlike RSS): product vs driver peer vs bare ws, at 0 and N terminals.
 *   node dist/bench/tools/heap-per-terminal.js [terminals=3000]
 */
import { readFileSync, readdirSync, renameSync, statSync } from 'node:fs';
import { Baseline, TerminalFleet, sleep, sns, startBaseline } from '../lib/harness';
import { removeTempDirs, tempDir } from '../lib/paths';
import { startProduct, type ProductServer } from '../lib/product';
import { killAll, rssBytes } from '../lib/procs';

/** Sum of the self sizes of every node of a heap snapshot, in bytes. */
function heapBytes(file: string): number {
  const snap = JSON.parse(readFileSync(file, 'utf8')) as {
    snapshot: { meta: { node_fields: string[] } };
    nodes: number[];
  };
  const fields = snap.snapshot.meta.node_fields;
  const self = fields.indexOf('self_size');
  let total = 0;
  for (let i = 0; i < snap.nodes.length; i += fields.length) total += snap.nodes[i + self];
  return total;
}

async function takeSnapshot(pid: number, dir: string, label: string): Promise<string> {
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

async function measure(sys: 'product' | 'peer' | 'bare', n: number): Promise<void> {
  const dir = tempDir(`heap-${sys}`);
  const execArgv = ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${dir}`];
  const server: ProductServer | Baseline =
    sys === 'product'
      ? await startProduct({ name: 'heap', durable: false, execArgv })
      : await startBaseline(sys, { pingIntervalMs: 5000, execArgv });
  const fleet = await TerminalFleet.start(n);
  try {
    await sleep(1500);
    const h0 = heapBytes(await takeSnapshot(server.pid, dir, 'empty'));
    await fleet.connect(server.wsUrl, sns('HEAP', n), { impl: 'raw', concurrency: 200 });
    await sleep(4000);
    const rss = rssBytes(server.pid);
    const h1 = heapBytes(await takeSnapshot(server.pid, dir, 'held'));
    console.log(
      `${sys.padEnd(8)} live heap ${(h0 / 2 ** 20).toFixed(1)} MB -> ${(h1 / 2 ** 20).toFixed(1)} MB with ${n} terminals: ` +
        `${((h1 - h0) / n / 1024).toFixed(2)} KB per terminal (RSS then ${(rss / 2 ** 20).toFixed(0)} MB)`,
    );
  } finally {
    await fleet.close();
    await fleet.stop();
    await server.stop();
  }
}

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 3000);
  try {
    for (const sys of ['product', 'peer', 'bare'] as const) await measure(sys, n);
  } finally {
    killAll();
    removeTempDirs();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  killAll();
  process.exit(1);
});
