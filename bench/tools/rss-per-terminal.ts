/**
 * Where resident memory per held terminal goes, product vs bare `ws` (and the peer), like for like:
 * the capacity benchmark's settings (pings every 5 s, last-seen writes every 10 s, 200 registrations
 * at a time, RSS read 3 s after the registrations finished, then an idle window before the next
 * size), with each process's growth split into V8 heap spaces (committed and used), external
 * memory, native memory (anonymous RSS outside the heap) and file-backed RSS.
 * With --restart (product only), how fast the terminals registered again after a restart of the
 * product on the same (durable) database. With --heap, the product's live heap growth by
 * constructor (heap snapshots, which themselves inflate RSS: the RSS figures of a --heap run are not
 * comparable).
 *   node dist/bench/tools/rss-per-terminal.js [sizes=1000[,5000,...]] [--systems=product,bare,peer]
 *        [--idle=8000] [--watch=ms] [--restart] [--heap] [--product-args="--node-flag ..."] [--product-env="K=V;K=V"]
 */
import { Baseline, TerminalFleet, sleep, sns, startBaseline } from '../lib/harness';
import { httpJson } from '../lib/http';
import { heapByName, takeSnapshot } from '../lib/heap-snapshot';
import { memoryFromMetrics, residentOf, withNative, type MemorySample } from '../lib/memory';
import { removeTempDirs, tempDir } from '../lib/paths';
import { planProductDb, startProduct, type ProductServer } from '../lib/product';
import { cpuMs, killAll } from '../lib/procs';

type Sys = 'product' | 'bare' | 'peer';
const opt = (name: string) => {
  const arg = process.argv.find((a) => a.startsWith(`--${name}=`));
  return arg?.slice(name.length + 3);
};
/** --product-args="--flag ...": extra node flags for the product (experiments). */
const productArgs = (opt('product-args') ?? '').split(' ').filter(Boolean);
/** --product-env="K=V;K=V": extra environment for the product (experiments). */
const productEnv = Object.fromEntries(
  (opt('product-env') ?? '')
    .split(';')
    .filter((kv) => kv.includes('='))
    .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
);
const PING_MS = 5000;
const LAST_SEEN_MS = 10_000;
/** The capacity benchmark's product settings. */
const PRODUCT_ENV = {
  WS_PING_INTERVAL: `${PING_MS}ms`,
  WS_LIVENESS_TIMEOUT: `${PING_MS * 3}ms`,
  DEVICE_LAST_SEEN_WRITE_INTERVAL: `${LAST_SEEN_MS}ms`,
  DEVICE_ONLINE_LEASE: `${LAST_SEEN_MS * 6}ms`,
};

interface Target {
  pid: number;
  wsUrl: string;
  memory(): Promise<MemorySample>;
}

async function sample(t: Target): Promise<MemorySample> {
  return withNative({ ...(await t.memory()), ...residentOf(t.pid) });
}

const ORDER = ['rss', 'rss anonymous', 'rss file', 'heap committed', 'heap used', 'external', 'array buffers'];

function show(sys: Sys, n: number, before: MemorySample, after: MemorySample): void {
  console.log(`${sys} with ${n} terminals (MB held; KB per terminal = growth since before the first / ${n}):`);
  const keys = [
    ...ORDER.filter((k) => k in after),
    'native (anon - heap - external)',
    ...Object.keys(after)
      .filter((k) => !ORDER.includes(k) && !k.startsWith('native'))
      .sort(),
  ];
  for (const key of keys) {
    if (after[key] === undefined) continue;
    const d = (after[key] - (before[key] ?? 0)) / n / 1024;
    if (Math.abs(d) < 0.05 && Math.abs(after[key]) < 2 ** 20 && !ORDER.includes(key)) continue;
    console.log(
      `  ${key.padEnd(34)} ${(after[key] / 2 ** 20).toFixed(1).padStart(8)} MB  ${d.toFixed(2).padStart(8)} KB/terminal`,
    );
  }
}

async function start(sys: Sys, heapDir: string | undefined, reuse?: ReturnType<typeof planProductDb>) {
  const execArgv = heapDir ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${heapDir}`] : [];
  if (sys === 'product') {
    execArgv.push(...productArgs);
    const p: ProductServer = await startProduct({
      name: 'rss-per-terminal',
      durable: reuse !== undefined,
      env: { ...PRODUCT_ENV, ...productEnv },
      reuse,
      execArgv,
    });
    const memory = async () =>
      memoryFromMetrics((await httpJson('GET', `${p.httpUrl}/metrics`, { timeoutMs: 10_000 })).body);
    return { target: { pid: p.pid, wsUrl: p.wsUrl, memory }, stop: () => p.stop() };
  }
  const b: Baseline = await startBaseline(sys, {
    pingIntervalMs: PING_MS,
    durable: false,
    leaseRefreshMs: sys === 'peer' ? LAST_SEEN_MS : 0,
    execArgv,
  });
  const memory = () => b.proc.call<MemorySample>('memory', {}, 10_000);
  return { target: { pid: b.pid, wsUrl: b.wsUrl, memory }, stop: () => b.stop() };
}

async function measure(
  sys: Sys,
  sizes: number[],
  idleMs: number,
  watchMs: number,
  heap: boolean,
  restart: boolean,
): Promise<void> {
  const dir = heap ? tempDir('rss-heap') : undefined;
  const plan = restart ? planProductDb('rss-per-terminal') : undefined;
  let server = await start(sys, dir, plan);
  const max = Math.max(...sizes);
  const fleet = await TerminalFleet.start(max);
  const list = sns(`RS${sys[0].toUpperCase()}`, max);
  try {
    await sleep(1500);
    const before = await sample(server.target);
    const heap0 = dir ? heapByName(await takeSnapshot(server.target.pid, dir, 'empty')) : undefined;
    let held = 0;
    for (const size of sizes) {
      const conn = await fleet.connect(server.target.wsUrl, list.slice(held, size), {
        impl: 'raw',
        concurrency: 200,
        timeoutMs: 240_000,
      });
      console.log(
        `${sys}: ${conn.connected}/${size - held} registered in ${conn.ms} ms = ${Math.round(((size - held) * 1000) / conn.ms)}/s ` +
          `(reg p50 ${conn.regP50?.toFixed(1)} ms, p95 ${conn.regP95?.toFixed(1)} ms)`,
      );
      held = size;
      await sleep(3000);
      show(sys, size, before, await sample(server.target));
      if (size !== max) await sleep(idleMs);
    }
    // --watch=ms: how the held memory moves afterwards (does V8 give the burst's headroom back, and when).
    for (let t = 0; t < watchMs; t += 5000) {
      const c0 = cpuMs(server.target.pid);
      await sleep(5000);
      const cpu = ((cpuMs(server.target.pid) - c0) * 100) / 5000;
      const s = await sample(server.target);
      const mb = (k: string) => (s[k] / 2 ** 20).toFixed(1);
      console.log(
        `  +${(t + 5000) / 1000 + 3} s: CPU ${cpu.toFixed(1)}% of a core, rss ${mb('rss')} MB, heap committed ${mb('heap committed')} / used ${mb('heap used')} MB, ` +
          `external ${mb('external')} MB, native ${mb('native (anon - heap - external)')} MB`,
      );
    }
    if (heap0 && dir) {
      const heap1 = heapByName(await takeSnapshot(server.target.pid, dir, 'held'));
      console.log(`${sys}: live heap growth by kind (bytes per terminal, objects per terminal):`);
      const rows = [...heap1].map(([k, v]) => {
        const b = heap0.get(k) ?? { bytes: 0, count: 0 };
        return { k, bytes: (v.bytes - b.bytes) / max, count: (v.count - b.count) / max };
      });
      rows.sort((a, b) => b.bytes - a.bytes);
      const total = rows.reduce((a, r) => a + r.bytes, 0);
      for (const r of rows.slice(0, 30)) {
        console.log(`  ${r.bytes.toFixed(0).padStart(7)} B  ${r.count.toFixed(2).padStart(6)}  ${r.k}`);
      }
      console.log(`  ${total.toFixed(0).padStart(7)} B  total`);
    }
    if (plan) {
      await fleet.close();
      await server.stop();
      server = await start(sys, undefined, plan);
      await sleep(1000);
      const again = await fleet.connect(server.target.wsUrl, list, {
        impl: 'raw',
        concurrency: 200,
        timeoutMs: 240_000,
      });
      console.log(
        `after a restart: ${again.connected}/${max} in ${again.ms} ms = ${Math.round((max * 1000) / again.ms)}/s (reg p50 ${again.regP50?.toFixed(1)} ms, p95 ${again.regP95?.toFixed(1)} ms)`,
      );
    }
  } finally {
    await fleet.close();
    await fleet.stop();
    await server.stop();
  }
}

async function main(): Promise<void> {
  const sizes = (process.argv[2] && !process.argv[2].startsWith('--') ? process.argv[2] : '1000')
    .split(',')
    .map(Number)
    .filter((n) => n > 0);
  const systems = (opt('systems') ?? 'product,bare').split(',') as Sys[];
  const idleMs = Number(opt('idle') ?? 8000);
  const watchMs = Number(opt('watch') ?? 0);
  const heap = process.argv.includes('--heap');
  const restart = process.argv.includes('--restart');
  for (const sys of systems) await measure(sys, sizes, idleMs, watchMs, heap, restart && sys === 'product');
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
