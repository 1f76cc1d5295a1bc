/**
 * Live JS heap per registered terminal (heap snapshots force a full GC, so garbage and heap headroom
 * are not counted, unlike RSS): product vs driver peer vs bare ws, at 0 and N terminals.
 *   node dist/bench/tools/heap-per-terminal.js [terminals=3000]
 */
import { Baseline, TerminalFleet, sleep, sns, startBaseline } from '../lib/harness';
import { heapBytes, takeSnapshot } from '../lib/heap-snapshot';
import { removeTempDirs, tempDir } from '../lib/paths';
import { startProduct, type ProductServer } from '../lib/product';
import { killAll, rssBytes } from '../lib/procs';

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
