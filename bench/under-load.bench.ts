/**
 * Under sustained load (issue 20), three measurements, each next to a bare baseline in the same run:
 * - forward rate vs ack rate: terminals pump sendlog frames in closed loop while a healthy HR sink
 *   confirms; records/s acknowledged to terminals and records/s received by the sink in the same
 *   window, then the rate the backlog drains at once the pump stops;
 * - registration under load: while the pump runs, new terminals dial in (a few at a time);
 *   time from dial to the reg answer, p50 / p95, against the same on the idle product;
 * - one key per record: a slow HR sink that commits after FORWARD_TIMEOUT while terminals pump;
 *   records that reached the sink under more than one Idempotency-Key.
 * Bare: `ws` + fsync'd file for the ack and registration figures, a client posting batches of the
 * same size from memory for the forward figures.
 */
import { Baseline, TerminalFleet, sleep, sns, startBaseline } from './lib/harness';
import { pollUntil } from './lib/http';
import { freePort } from './lib/ports';
import { startProc, type Proc } from './lib/procs';
import { dropProductDb, startProduct, type ProductServer } from './lib/product';
import { round } from './lib/stats';
import { punch } from './load/records';
import type { BenchOptions, BenchResult, ResultRow } from './lib/types';

interface SinkStats {
  requests: number;
  records: number;
  unique: number;
  duplicates: number;
  multiKeyRecords: number;
  idempotencyKeys: number;
}

interface PumpFigures {
  ackRate: number;
  forwardRate: number;
  drainRate: number;
  regIdle: { p50: number; p95: number };
  regLoaded: { p50: number; p95: number; failed: number; max: number };
  acked: number;
  atSink: number;
  multiKey: number;
  avgBatch: number;
}

type Reg = Awaited<ReturnType<TerminalFleet['connect']>>;

export async function run(opts: BenchOptions): Promise<BenchResult> {
  const terminals = opts.quick ? 100 : 1000;
  const perFrame = 10;
  const warmupMs = opts.quick ? 2000 : 5000;
  const windowMs = opts.quick ? 5000 : 20_000;
  const newcomers = opts.quick ? 30 : 200;
  const slowTerminals = opts.quick ? 30 : 200;
  const slowPumpMs = opts.quick ? 4000 : 12_000;
  const checks: NonNullable<BenchResult['checks']> = [];
  const notes: string[] = [];

  const sinkPort = await freePort();
  const sinkUrl = `http://127.0.0.1:${sinkPort}/api/logs`;
  const sink: Proc = startProc('sink', 'load/sink.js');
  await sink.call('start', { port: sinkPort }, 30_000);
  const stats = () => sink.call<SinkStats>('stats', {}, 60_000);
  const fleet = await TerminalFleet.start(terminals, 500, opts.progress);
  const late = await TerminalFleet.start(newcomers, 5000);
  let seq = 0;
  const prefix = () => `UL${String(seq++).padStart(2, '0')}X`;

  /** Pump for warmup+window; newcomers dial in during the window; sink sampled at the window's edges. */
  async function pumpWindow(wsUrl: string) {
    const pump = fleet.ingest({ recordsPerFrame: perFrame, warmupMs, durationMs: windowMs, firstRecord: 0 });
    await sleep(warmupMs);
    const s0 = await stats();
    const t0 = Date.now();
    const joined: Promise<Reg> = (async () => {
      await sleep(Math.min(2000, windowMs / 4));
      return late.connect(wsUrl, sns(prefix(), newcomers), { impl: 'raw', concurrency: 10, regTimeoutMs: 15_000 });
    })();
    await sleep(windowMs);
    const s1 = await stats();
    const forwardRate = ((s1.records - s0.records) * 1000) / (Date.now() - t0);
    const ingest = await pump;
    const reg = await joined;
    await late.close();
    return { ingest, reg, forwardRate, s1 };
  }

  const product: PumpFigures[] = [];
  const bare: { ackRate: number; regLoaded: { p50: number; p95: number; failed: number }; forwardRate: number }[] = [];
  let server: ProductServer | undefined;
  let baseline: Baseline | undefined;
  try {
    // ---- product, healthy HR sink ----
    opts.progress('product: starting');
    server = await startProduct({
      name: 'under-load',
      durable: true,
      env: { DEVICE_CMD_RATE_LIMIT: '0', FORWARD_LOG_URL: sinkUrl, ...benchEnv() },
    });
    const idleReg = await late.connect(server.wsUrl, sns(prefix(), newcomers), { impl: 'raw', concurrency: 10 });
    await late.close();
    opts.progress(`product: ${terminals} terminals registering`);
    const conn = await fleet.connect(server.wsUrl, sns(prefix(), terminals), { impl: 'raw', concurrency: 100 });
    checks.push({
      what: `product: all ${terminals} pumping terminals registered`,
      ok: conn.failed === 0,
      detail: `${conn.connected} registered in ${round(conn.ms / 1000, 1)} s, ${conn.failed} failed${conn.errors[0] ? `: ${conn.errors[0]}` : ''}`,
    });
    opts.progress('product: pumping');
    const p = await pumpWindow(server.wsUrl);
    const stopAt = Date.now();
    const pendingAt = async () =>
      (await server!.driver()).db().collection('fingerprintlogs').countDocuments({ forward_pending: true });
    const backlog = await pendingAt();
    await pollUntil(
      'product: backlog drained after the pump',
      async () => {
        const n = await pendingAt();
        opts.progress(`product: ${n} records left to forward`);
        return n === 0;
      },
      opts.quick ? 60_000 : 180_000,
      250,
    );
    const drainMs = Date.now() - stopAt;
    const end = await stats();
    const storedTotal = await (await server.driver()).db().collection('fingerprintlogs').countDocuments({});
    opts.progress(
      `product: acked ${Math.round(p.ingest.recordsPerSecond)}/s, forwarded ${Math.round(p.forwardRate)}/s, drain ${Math.round((backlog * 1000) / drainMs)}/s, reg p95 ${Math.round(p.reg.regP95)} ms`,
    );
    product.push({
      ackRate: p.ingest.recordsPerSecond,
      forwardRate: p.forwardRate,
      drainRate: backlog > 0 ? (backlog * 1000) / drainMs : NaN,
      regIdle: { p50: idleReg.regP50, p95: idleReg.regP95 },
      regLoaded: { p50: p.reg.regP50, p95: p.reg.regP95, failed: p.reg.failed, max: p.reg.regMax },
      acked: p.ingest.totalAcked,
      atSink: end.unique,
      multiKey: end.multiKeyRecords,
      avgBatch: end.records / Math.max(1, end.requests),
    });
    checks.push({
      what: 'product, healthy HR: every stored record at the sink, none twice, each under one key',
      ok: end.unique === storedTotal && end.duplicates === 0 && end.multiKeyRecords === 0,
      detail: `${storedTotal} stored, ${end.unique} at the sink, ${end.duplicates} duplicates, ${end.multiKeyRecords} under 2+ keys`,
    });
    checks.push({
      what: `product: all ${newcomers} newcomers registered while ${terminals} terminals pumped`,
      ok: p.reg.failed === 0,
      detail: `${p.reg.failed} failed${p.reg.errors[0] ? `: ${p.reg.errors[0]}` : ''}`,
    });
    await fleet.close();
    await server.stop();
    await dropProductDb(server).catch(() => undefined);
    server = undefined;
    await sink.call('reset', {}, 30_000);

    // ---- product, slow HR sink (commits after FORWARD_TIMEOUT) ----
    opts.progress('product, slow HR: starting');
    server = await startProduct({
      name: 'under-load-slow',
      durable: true,
      env: {
        DEVICE_CMD_RATE_LIMIT: '0',
        FORWARD_LOG_URL: sinkUrl,
        FORWARD_TIMEOUT: '1s',
        FORWARD_RETRY_BASE: '500ms',
        FORWARD_RETRY_MAX: '2s',
      },
    });
    await sink.call('configure', { delayMs: 1500 }, 30_000);
    await fleet.connect(server.wsUrl, sns(prefix(), slowTerminals), { impl: 'raw', concurrency: 100 });
    opts.progress('product, slow HR: pumping');
    await fleet.ingest({ recordsPerFrame: perFrame, warmupMs: 0, durationMs: slowPumpMs, firstRecord: 0 });
    await fleet.close();
    // The HR server recovers; everything must arrive, each record under one key only.
    await sleep(3000);
    await sink.call('configure', { delayMs: 0 }, 30_000);
    const slowServer = server;
    await pollUntil(
      'product, slow HR: drained',
      async () => {
        const n = await (
          await slowServer.driver()
        )
          .db()
          .collection('fingerprintlogs')
          .countDocuments({ forward_pending: true });
        opts.progress(`product, slow HR: ${n} records left to forward`);
        return n === 0;
      },
      opts.quick ? 60_000 : 180_000,
      250,
    );
    const slow = await stats();
    const slowStored = await (await server.driver()).db().collection('fingerprintlogs').countDocuments({});
    checks.push({
      what: 'product, slow HR: every stored record at the sink under exactly one Idempotency-Key',
      ok: slow.unique === slowStored && slow.multiKeyRecords === 0,
      detail: `${slowStored} stored, ${slow.unique} at the sink (${slow.records} received, ${slow.requests} requests), ${slow.multiKeyRecords} under 2+ keys`,
    });
    await server.stop();
    await dropProductDb(server).catch(() => undefined);
    server = undefined;
    await sink.call('reset', {}, 30_000);

    // ---- bare: ws + fsync'd file, then a client posting the same batches ----
    opts.progress('bare: starting');
    baseline = await startBaseline('bare');
    await fleet.connect(baseline.wsUrl, sns(prefix(), terminals), { impl: 'raw', concurrency: 100 });
    const b = await pumpWindow(baseline.wsUrl);
    await fleet.close();
    await sink.call('reset', {}, 30_000);
    const batch = Math.max(1, Math.round(product[0].avgBatch));
    const streams = sns('ULBARE', terminals).map((sn) => ({
      sn,
      records: Array.from({ length: batch * 4 }, (_, r) => {
        const x = punch(r);
        return { enrollid: x.enrollid as number, time: x.time as string, event: 0 };
      }),
    }));
    const fwd = startProc('bare-forwarder', 'load/bare-forwarder.js');
    let bareForward = NaN;
    try {
      const res = await fwd.call<{ ms: number }>(
        'drain',
        { sinkUrl, streams, batchSize: batch, concurrency: 4 },
        180_000,
      );
      bareForward = (terminals * batch * 4 * 1000) / res.ms;
    } finally {
      await fwd.stop();
    }
    bare.push({
      ackRate: b.ingest.recordsPerSecond,
      regLoaded: { p50: b.reg.regP50, p95: b.reg.regP95, failed: b.reg.failed },
      forwardRate: bareForward,
    });
    await sink.call('reset', {}, 30_000);
    await sink.call('configure', { delayMs: 1500 }, 30_000);
    const slowBare = startProc('bare-forwarder', 'load/bare-forwarder.js');
    try {
      const drained = slowBare.call(
        'drain',
        { sinkUrl, streams: streams.slice(0, slowTerminals), batchSize: batch, concurrency: 4, timeoutMs: 1000 },
        300_000,
      );
      // Slow for a while (every attempt times out), then the HR server recovers, as for the product.
      await sleep(3000);
      await sink.call('configure', { delayMs: 0 }, 30_000);
      await drained;
    } catch (e) {
      notes.push(`bare slow-HR client: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      await slowBare.stop();
    }
    const slowBareStats = await stats();

    const pr = product[0];
    const br = bare[0];
    const label = `${terminals} terminals, ${perFrame} records/frame, closed loop`;
    const rows: ResultRow[] = [
      {
        case: label,
        metric: 'acked',
        unit: 'records/s',
        better: 'higher',
        product: [round(pr.ackRate, 0)],
        bare: [round(br.ackRate, 0)],
      },
      {
        case: label,
        metric: 'forwarded during the pump',
        unit: 'records/s',
        better: 'higher',
        product: [round(pr.forwardRate, 0)],
        bare: [round(br.forwardRate, 0)],
      },
      {
        case: label,
        metric: 'forwarded / acked',
        unit: 'ratio',
        better: 'higher',
        product: [round(pr.forwardRate / pr.ackRate, 2)],
      },
      {
        case: label,
        metric: 'backlog drain after the pump',
        unit: 'records/s',
        better: 'higher',
        product: [round(pr.drainRate, 0)],
        bare: [round(br.forwardRate, 0)],
      },
      {
        case: `${newcomers} new terminals dialling in, 10 at a time, during the pump`,
        metric: 'registration p50',
        unit: 'ms',
        better: 'lower',
        product: [round(pr.regLoaded.p50, 0)],
        bare: [round(br.regLoaded.p50, 0)],
      },
      {
        case: `${newcomers} new terminals dialling in, 10 at a time, during the pump`,
        metric: 'registration p95',
        unit: 'ms',
        better: 'lower',
        product: [round(pr.regLoaded.p95, 0)],
        bare: [round(br.regLoaded.p95, 0)],
      },
      {
        case: `${newcomers} new terminals dialling in, 10 at a time, idle product`,
        metric: 'registration p95',
        unit: 'ms',
        better: 'lower',
        product: [round(pr.regIdle.p95, 0)],
      },
      {
        case: `slow HR (commits 1.5 s after the request, FORWARD_TIMEOUT 1 s), ${slowTerminals} terminals pumping`,
        metric: 'records under 2+ keys',
        unit: 'records',
        better: 'lower',
        product: [slow.multiKeyRecords],
        bare: [slowBareStats.multiKeyRecords],
      },
    ];
    checks.push(
      {
        what: 'forwarded records/s during the pump >= 50% of acked records/s',
        ok: pr.forwardRate >= 0.5 * pr.ackRate,
        detail: `${round(pr.forwardRate, 0)} / ${round(pr.ackRate, 0)}`,
      },
      {
        what: 'new terminals registered within 1 s at the 95th percentile during the pump',
        ok: pr.regLoaded.p95 <= 1000 && pr.regLoaded.failed === 0,
        detail: `p95 ${round(pr.regLoaded.p95, 0)} ms, max ${round(pr.regLoaded.max, 0)} ms, ${pr.regLoaded.failed} failed`,
      },
    );
    notes.push(
      `Pump: ${terminals} lean terminals (bench/load/raw-terminal.ts) in closed loop, ${perFrame} records per sendlog frame; ` +
        `${warmupMs / 1000} s warm-up, ${windowMs / 1000} s window. Forward rate = records received by the sink in the window / window.`,
      `Product: durable embedded database, FORWARD_TIMEOUT 10 s, default batch size and concurrency; average batch at the sink under load: ${round(pr.avgBatch, 1)} records. ` +
        `Bare forward rate: a client posting batches of that size (${batch}) from memory, 4 at once, to the same sink.`,
      `Slow HR: the sink answers (and counts) each request 1.5 s after it arrived; the product's FORWARD_TIMEOUT is 1 s, so every attempt in that phase has an unknown outcome. ` +
        'Bare slow-HR client: retries the same batch under the same key after its 1 s timeout.',
      'One run of each on a 2-core machine shared with other work: figures are noisy.',
    );
    return {
      name: 'under-load',
      title: 'Under sustained load (forward rate, registration, one key per record)',
      rows,
      checks,
      notes,
      config: { terminals, perFrame, warmupMs, windowMs, newcomers, slowTerminals, slowPumpMs },
    };
  } finally {
    await fleet.stop();
    await late.stop();
    await server?.stop();
    await baseline?.stop();
    await sink.stop();
  }
}

/** UNDER_LOAD_ENV='A=1,B=2': product settings to try (profiling runs); empty in the recorded runs. */
function benchEnv(): Record<string, string> {
  const spec = process.env.UNDER_LOAD_ENV ?? '';
  return Object.fromEntries(
    spec
      .split(',')
      .filter((kv) => kv.includes('='))
      .map((kv) => [kv.slice(0, kv.indexOf('=')).trim(), kv.slice(kv.indexOf('=') + 1).trim()]),
  );
}
