/**
 * Where the product's resident memory per held terminal goes: RSS, V8 heap spaces (committed),
 * external memory and array buffers, read from the product's /metrics before and after N lean
 * terminals register; and how fast they registered, first on a fresh database, then again after a
 * restart of the product on the same (durable) database.
 * With --heap, also the live heap's growth by constructor (heap snapshots before and after).
 *   node dist/bench/tools/rss-per-terminal.js [terminals=1000] [--restart] [--heap]
 */
import { TerminalFleet, sleep, sns } from '../lib/harness';
import { httpJson } from '../lib/http';
import { heapByName, takeSnapshot } from '../lib/heap-snapshot';
import { removeTempDirs, tempDir } from '../lib/paths';
import { planProductDb, startProduct, type ProductServer } from '../lib/product';
import { killAll, rssBytes } from '../lib/procs';

type Sample = Record<string, number>;

async function sample(server: ProductServer): Promise<Sample> {
  const res = await httpJson('GET', `${server.httpUrl}/metrics`, { timeoutMs: 10_000 });
  const text = res.body;
  const out: Sample = { rss: rssBytes(server.pid) };
  for (const line of text.split('\n')) {
    const m =
      /^(nodejs_heap_space_size_total_bytes|nodejs_heap_space_size_used_bytes)\{space="([a-z_]+)"\} ([0-9.e+]+)/.exec(
        line,
      );
    if (m) out[`${m[1].includes('total') ? 'committed' : 'used'} ${m[2]}`] = Number(m[3]);
    const e =
      /^(nodejs_external_memory_bytes|nodejs_heap_size_total_bytes|nodejs_heap_size_used_bytes) ([0-9.e+]+)/.exec(line);
    if (e) out[e[1].replace(/^nodejs_/, '')] = Number(e[2]);
  }
  return out;
}

function show(n: number, before: Sample, after: Sample): void {
  for (const key of Object.keys(after).sort()) {
    const d = (after[key] - (before[key] ?? 0)) / n / 1024;
    if (Math.abs(d) < 0.05 && key !== 'rss') continue;
    console.log(
      `  ${key.padEnd(34)} ${(after[key] / 2 ** 20).toFixed(1).padStart(8)} MB  ${d.toFixed(2).padStart(8)} KB/terminal`,
    );
  }
}

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 1000);
  const restart = process.argv.includes('--restart');
  const heap = process.argv.includes('--heap');
  const dir = tempDir('rss-heap');
  const execArgv = heap ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${dir}`] : [];
  const plan = planProductDb('rss-per-terminal');
  const env = {
    WS_PING_INTERVAL: '5000ms',
    WS_LIVENESS_TIMEOUT: '15000ms',
    DEVICE_LAST_SEEN_WRITE_INTERVAL: '10000ms',
    DEVICE_ONLINE_LEASE: '60000ms',
  };
  let server = await startProduct({ name: 'rss-per-terminal', durable: restart, env, reuse: plan, execArgv });
  const fleet = await TerminalFleet.start(n);
  const list = sns('RSS', n);
  try {
    await sleep(1500);
    const before = await sample(server);
    const heap0 = heap ? heapByName(await takeSnapshot(server.pid, dir, 'empty')) : undefined;
    const first = await fleet.connect(server.wsUrl, list, { impl: 'raw', concurrency: 200, timeoutMs: 240_000 });
    console.log(
      `first registration: ${first.connected}/${n} in ${first.ms} ms = ${Math.round((n * 1000) / first.ms)}/s (reg p50 ${first.regP50?.toFixed(1)} ms, p95 ${first.regP95?.toFixed(1)} ms)`,
    );
    await sleep(3000);
    const after = await sample(server);
    console.log(`product with ${n} terminals (per terminal = growth / ${n}):`);
    show(n, before, after);
    if (heap0) {
      const heap1 = heapByName(await takeSnapshot(server.pid, dir, 'held'));
      console.log('live heap growth by kind (bytes per terminal, objects per terminal):');
      const rows = [...heap1].map(([k, v]) => {
        const b = heap0.get(k) ?? { bytes: 0, count: 0 };
        return { k, bytes: (v.bytes - b.bytes) / n, count: (v.count - b.count) / n };
      });
      rows.sort((a, b) => b.bytes - a.bytes);
      const total = rows.reduce((a, r) => a + r.bytes, 0);
      for (const r of rows.slice(0, 40)) {
        console.log(`  ${r.bytes.toFixed(0).padStart(7)} B  ${r.count.toFixed(2).padStart(6)}  ${r.k}`);
      }
      console.log(`  ${total.toFixed(0).padStart(7)} B  total`);
    }
    if (restart) {
      await fleet.close();
      await server.stop();
      server = await startProduct({ name: 'rss-per-terminal', durable: true, env, reuse: plan });
      await sleep(1000);
      const again = await fleet.connect(server.wsUrl, list, { impl: 'raw', concurrency: 200, timeoutMs: 240_000 });
      console.log(
        `after a restart: ${again.connected}/${n} in ${again.ms} ms = ${Math.round((n * 1000) / again.ms)}/s (reg p50 ${again.regP50?.toFixed(1)} ms, p95 ${again.regP95?.toFixed(1)} ms)`,
      );
    }
  } finally {
    await fleet.close();
    await fleet.stop();
    await server.stop();
  }
}

main()
  .catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  })
  .finally(() => {
    killAll();
    removeTempDirs();
  });
