/**
 * Terminal capacity: 1k, 5k and 10k registered terminals held by one server with liveness on
 * (pings, last-seen writes). Server RSS per terminal and CPU at idle, vs a bare `ws` server (and
 * the driver peer, which also upserts each terminal and refreshes its lease).
 */
import { externalMongoUri } from './lib/db';
import { Baseline, TerminalFleet, readIndexes, sleep, sns, startBaseline } from './lib/harness';
import { dropProductDb, planProductDb, startProduct, ProductServer } from './lib/product';
import { cpuMs, fdCount, rssBytes } from './lib/procs';
import { median, round } from './lib/stats';
import type { BenchOptions, BenchResult, ResultRow, System } from './lib/types';

const PING_MS = 5000;
const LAST_SEEN_MS = 10_000;

interface Point {
  terminals: number;
  rssMB: number;
  perTerminalKB: number;
  /** RSS growth from the previous size, per terminal added (less sensitive to the start-up heap). */
  marginalKB: number;
  idleCpuPct: number;
  regPerSecond: number;
  fds: number;
  open: number;
}

async function sampleRss(pid: number): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < 3; i++) {
    samples.push(rssBytes(pid));
    await sleep(300);
  }
  return median(samples);
}

async function measure(
  sys: System,
  server: { pid: number; wsUrl: string },
  sizes: number[],
  idleMs: number,
  progress: (m: string) => void,
  whileHeld?: () => Promise<void>,
  settleMs = 3000,
): Promise<Point[]> {
  const fleet = await TerminalFleet.start(Math.max(...sizes), 5000, progress);
  const points: Point[] = [];
  try {
    await sleep(settleMs / 2);
    const rss0 = await sampleRss(server.pid);
    let held = 0;
    let prevRss = rss0;
    for (const size of sizes) {
      progress(`${sys}: registering up to ${size} terminals`);
      const conn = await fleet.connect(server.wsUrl, sns(`CP${sys[0].toUpperCase()}`, size).slice(held), {
        concurrency: 200,
        impl: 'raw',
        timeoutMs: 240_000,
      });
      if (conn.failed > 0) {
        throw new Error(
          `${sys}: ${conn.failed} of ${size - held} terminals failed to register: ${conn.errors.join('; ')}`,
        );
      }
      const regPerSecond = ((size - held) * 1000) / Math.max(1, conn.ms);
      const prevHeld = held;
      held = size;
      progress(`${sys}: ${size} terminals held, settling`);
      await sleep(settleMs);
      const rss = await sampleRss(server.pid);
      progress(`${sys}: ${size} terminals, idle CPU window ${idleMs / 1000}s`);
      const c0 = cpuMs(server.pid);
      const t0 = Date.now();
      await sleep(idleMs);
      const idleCpuPct = ((cpuMs(server.pid) - c0) * 100) / (Date.now() - t0);
      const st = await fleet.stats();
      points.push({
        terminals: size,
        rssMB: round(rss / 2 ** 20, 1),
        perTerminalKB: round((rss - rss0) / size / 1024, 2),
        marginalKB: round((rss - prevRss) / (size - prevHeld) / 1024, 2),
        idleCpuPct: round(idleCpuPct, 2),
        regPerSecond: round(regPerSecond, 0),
        fds: fdCount(server.pid),
        open: st.open,
      });
      prevRss = rss;
    }
    await whileHeld?.();
  } finally {
    await fleet.close();
    await fleet.stop();
  }
  return points;
}

/**
 * Registration after a restart: `n` terminals register with a server, the server stops (its
 * sockets end) and starts again on the same data, and the same terminals dial in at once: every
 * one is already known to the database. The product runs with its database on files here (a
 * restart of the in-memory one would forget the terminals).
 */
async function measureRestart(
  sys: 'product' | 'bare',
  n: number,
  progress: (m: string) => void,
): Promise<{
  firstPerSecond: number;
  restartPerSecond: number;
  regP95Ms: number;
  cpuPerRegMs: number;
  known: number;
}> {
  const plan = planProductDb('capacity-restart');
  const start = async (): Promise<{ pid: number; wsUrl: string; stop(): Promise<void>; known(): Promise<number> }> => {
    if (sys === 'bare') {
      const b = await startBaseline('bare', { pingIntervalMs: PING_MS, durable: false });
      return { pid: b.pid, wsUrl: b.wsUrl, stop: () => b.stop(), known: async () => n };
    }
    const p = await startProduct({ name: 'capacity-restart', durable: true, env: PRODUCT_ENV, reuse: plan });
    return {
      pid: p.pid,
      wsUrl: p.wsUrl,
      stop: async () => {
        await p.stop();
      },
      known: async () =>
        (await p.driver())
          .db()
          .collection('devices')
          .countDocuments({ sn: { $regex: '^RST' } }),
    };
  };
  const list = sns(`RST${sys[0].toUpperCase()}`, n);
  const fleet = await TerminalFleet.start(n, 5000, progress);
  let server = await start();
  try {
    progress(`${sys}: ${n} terminals register for the first time`);
    const first = await fleet.connect(server.wsUrl, list, { concurrency: 200, impl: 'raw', timeoutMs: 240_000 });
    if (first.failed > 0)
      throw new Error(`${sys}: ${first.failed} terminals failed to register: ${first.errors.join('; ')}`);
    await fleet.close();
    progress(`${sys}: restarting`);
    await server.stop();
    server = await start();
    await sleep(1000);
    progress(`${sys}: ${n} known terminals register after the restart`);
    // The server's own CPU time over the burst: steadier than the rate on a machine shared with other work.
    const cpu0 = cpuMs(server.pid);
    const again = await fleet.connect(server.wsUrl, list, { concurrency: 200, impl: 'raw', timeoutMs: 240_000 });
    const cpuPerRegMs = (cpuMs(server.pid) - cpu0) / n;
    if (again.failed > 0) {
      throw new Error(
        `${sys}: ${again.failed} terminals failed to register after a restart: ${again.errors.join('; ')}`,
      );
    }
    const known = await server.known();
    return {
      firstPerSecond: round((n * 1000) / Math.max(1, first.ms), 0),
      restartPerSecond: round((n * 1000) / Math.max(1, again.ms), 0),
      regP95Ms: round(again.regP95, 1),
      cpuPerRegMs: round(cpuPerRegMs, 3),
      known,
    };
  } finally {
    await fleet.close();
    await fleet.stop();
    await server.stop();
    await dropProductDb({ dbUri: plan.dbUri ?? '' }).catch(() => undefined);
  }
}

const PRODUCT_ENV = {
  WS_PING_INTERVAL: `${PING_MS}ms`,
  WS_LIVENESS_TIMEOUT: `${PING_MS * 3}ms`,
  DEVICE_LAST_SEEN_WRITE_INTERVAL: `${LAST_SEEN_MS}ms`,
  DEVICE_ONLINE_LEASE: `${LAST_SEEN_MS * 6}ms`,
};

export async function run(opts: BenchOptions): Promise<BenchResult> {
  const sizes = opts.quick ? [100, 300] : [1000, 5000, 10_000];

  const idleMs = opts.quick ? 1500 : 8000;
  const settleMs = opts.quick ? 1000 : 3000;
  const results: Record<System, Point[][]> = { product: [], peer: [], bare: [] };
  const checks: NonNullable<BenchResult['checks']> = [];
  const want = sizes[sizes.length - 1];
  // BENCH_CAPACITY_RESTART_SIZE=<n>: the restart case with n terminals instead of the largest size.
  const restartN = Number(process.env.BENCH_CAPACITY_RESTART_SIZE ?? '') || want;
  let indexes = {};

  const runProduct = async (r: number) => {
    opts.progress(`starting product (run ${r + 1})`);
    const product: ProductServer = await startProduct({
      name: 'capacity',
      durable: false,
      env: PRODUCT_ENV,
    });
    try {
      const pts = await measure(
        'product',
        product,
        sizes,
        idleMs,
        opts.progress,
        async () => {
          const online = await (await product.driver()).db().collection('devices').countDocuments({ online: true });
          checks.push({
            what: `product run ${r + 1}: ${want} terminals online in the database`,
            ok: online === want,
            detail: `${online}`,
          });
        },
        settleMs,
      );
      results.product.push(pts);
      indexes = await readIndexes(await product.driver(), ['devices']);
    } finally {
      await product.stop();
      await dropProductDb(product).catch(() => undefined);
    }
  };
  const runBaseline = async (sys: 'peer' | 'bare', r: number) => {
    opts.progress(`starting ${sys} (run ${r + 1})`);
    const b: Baseline = await startBaseline(sys, {
      pingIntervalMs: PING_MS,
      durable: false,
      indexes,
      leaseRefreshMs: sys === 'peer' ? LAST_SEEN_MS : 0,
    });
    try {
      results[sys].push(await measure(sys, b, sizes, idleMs, opts.progress, undefined, settleMs));
    } finally {
      await b.stop();
    }
  };
  const restarts: Record<'product' | 'bare', Awaited<ReturnType<typeof measureRestart>>[]> = { product: [], bare: [] };
  const runRestart = async (sys: 'product' | 'bare', r: number) => {
    opts.progress(`${sys}: registrations after a restart (run ${r + 1})`);
    const m = await measureRestart(sys, restartN, opts.progress);
    restarts[sys].push(m);
    if (sys === 'product') {
      checks.push({
        what: `product run ${r + 1}: after the restart, the ${restartN} terminals were already known (no new documents)`,
        ok: m.known === restartN,
        detail: `${m.known} documents`,
      });
    }
  };
  // BENCH_CAPACITY_CASES=restart: only the registrations after a restart (product and bare), for iterating.
  const onlyRestart = (process.env.BENCH_CAPACITY_CASES ?? '').trim() === 'restart';
  // The target pair (product vs bare ws) runs twice; the peer once.
  if (!onlyRestart) {
    await runProduct(0);
    await runBaseline('peer', 0);
    await runBaseline('bare', 0);
  }
  await runRestart('product', 0);
  await runRestart('bare', 0);
  if (!opts.quick) {
    if (!onlyRestart) {
      await runProduct(1);
      await runBaseline('bare', 1);
    }
    await runRestart('product', 1);
    await runRestart('bare', 1);
  }

  for (const sys of ['product', 'peer', 'bare'] as const) {
    results[sys].forEach((pts, r) => {
      const last = pts[pts.length - 1];
      checks.push({
        what: `${sys} run ${r + 1}: every terminal still connected after the idle windows (liveness kept them)`,
        ok: pts.every((p) => p.open === p.terminals),
        detail: last ? `${last.open}/${last.terminals}, server fds ${last.fds}` : 'no data',
      });
    });
  }
  const rows: ResultRow[] = [];
  (onlyRestart ? [] : sizes).forEach((size, i) => {
    const at = (sys: System, f: (p: Point) => number) => results[sys].filter((pts) => pts[i]).map((pts) => f(pts[i]));
    const label = `${size.toLocaleString('en-US')} terminals`;
    rows.push(
      {
        case: label,
        metric: 'RSS per terminal',
        unit: 'KB',
        better: 'lower',
        product: at('product', (p) => p.perTerminalKB),
        peer: at('peer', (p) => p.perTerminalKB),
        bare: at('bare', (p) => p.perTerminalKB),
        target: { vs: 'bare', ratio: 2 },
      },
      {
        case: label,
        metric: 'RSS per added terminal',
        unit: 'KB',
        better: 'lower',
        product: at('product', (p) => p.marginalKB),
        peer: at('peer', (p) => p.marginalKB),
        bare: at('bare', (p) => p.marginalKB),
      },
      {
        case: label,
        metric: 'server RSS',
        unit: 'MB',
        better: 'lower',
        product: at('product', (p) => p.rssMB),
        peer: at('peer', (p) => p.rssMB),
        bare: at('bare', (p) => p.rssMB),
      },
      {
        case: label,
        metric: 'idle CPU',
        unit: '% of a core',
        better: 'lower',
        product: at('product', (p) => p.idleCpuPct),
        peer: at('peer', (p) => p.idleCpuPct),
        bare: at('bare', (p) => p.idleCpuPct),
      },
      {
        case: label,
        metric: 'registration rate',
        unit: 'terminals/s',
        better: 'higher',
        product: at('product', (p) => p.regPerSecond),
        peer: at('peer', (p) => p.regPerSecond),
        bare: at('bare', (p) => p.regPerSecond),
      },
    );
  });
  const restartLabel = `${restartN.toLocaleString('en-US')} known terminals, after a restart`;
  rows.push(
    {
      case: restartLabel,
      metric: 'registration rate',
      unit: 'terminals/s',
      better: 'higher',
      product: restarts.product.map((m) => m.restartPerSecond),
      bare: restarts.bare.map((m) => m.restartPerSecond),
      target: { value: 2000 },
    },
    {
      case: restartLabel,
      metric: 'reg reply p95',
      unit: 'ms',
      better: 'lower',
      product: restarts.product.map((m) => m.regP95Ms),
      bare: restarts.bare.map((m) => m.regP95Ms),
    },
    {
      case: restartLabel,
      metric: 'server CPU per registration',
      unit: 'ms',
      better: 'lower',
      product: restarts.product.map((m) => m.cpuPerRegMs),
      bare: restarts.bare.map((m) => m.cpuPerRegMs),
    },
    {
      case: `${restartN.toLocaleString('en-US')} new terminals, database on files`,
      metric: 'registration rate',
      unit: 'terminals/s',
      better: 'higher',
      product: restarts.product.map((m) => m.firstPerSecond),
      bare: restarts.bare.map((m) => m.firstPerSecond),
    },
  );
  return {
    name: 'capacity',
    title: 'Terminal capacity (registered terminals held with liveness on)',
    rows,
    checks,
    notes: [
      `Liveness: server pings every ${PING_MS / 1000}s (terminal closed after ${(PING_MS * 3) / 1000}s of silence); ` +
        `product and peer write last-seen every ${LAST_SEEN_MS / 1000}s. Idle CPU over ${idleMs / 1000}s per size.`,
      'RSS per terminal = (RSS with N terminals - RSS before the first) / N; per added terminal = RSS growth since the previous size / terminals added; ' +
        (externalMongoUri()
          ? 'the database is MongoDB (MONGODB_URI), outside the measured processes.'
          : 'the product and the peer include their in-process embedded database (in memory here).'),
      `Stopped at 10,000 terminals by the per-process open-files limit (${'20,000'} here): each terminal is a socket (fd) in the server, ` +
        'so 20k terminals would need more than the limit; the load generators hold at most 5,000 sockets each. ' +
        'Loopback ephemeral ports (~28k) would be the next limit for one client address.',
      `After a restart: ${restartN.toLocaleString('en-US')} terminals register, the server stops and starts again on the same data (the product's ` +
        'embedded database on files, as shipped), and the same terminals dial in at once, 200 at a time per load generator; every one is already ' +
        'known to the database. Rate = terminals / time until the last reg reply. Bare has nothing to remember: its restart is a reconnect.',
      'Product and bare ws run twice (the target pair), the peer once; load: lean ws terminals in separate processes (bench/load/raw-terminal.ts), ' +
        'because 10,000 VirtualTerminals with their stores would weigh on the shared cores more than the sockets themselves.',
    ],
    config: { sizes, idleMs, pingMs: PING_MS, lastSeenMs: LAST_SEEN_MS, points: results, restarts },
  };
}
