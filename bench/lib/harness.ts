import type { IndexDescription, MongoClient } from 'mongodb';
import { BENCH_JWT_SECRET } from './jwt';
import { tempDir } from './paths';
import { freePort } from './ports';
import { Proc, startProc } from './procs';
import { summarize, type LatencySummary } from './stats';

export interface IngestOutcome {
  latencies: number[];
  measuredRecords: number;
  windowMs: number;
  refused: number;
  timeouts: number;
  acked: Record<string, number>;
  sent: Record<string, number>;
}

export interface IngestSummary {
  recordsPerSecond: number;
  ack: LatencySummary;
  refused: number;
  timeouts: number;
  acked: Record<string, number>;
  sent: Record<string, number>;
  totalAcked: number;
}

/** Terminals spread over load-generator processes (at most `perProc` sockets each). */
export class TerminalFleet {
  private procs: Proc[] = [];
  connected = 0;

  static async start(count: number, perProc = 5000, progress?: (msg: string) => void): Promise<TerminalFleet> {
    const fleet = new TerminalFleet();
    const n = Math.max(1, Math.ceil(count / perProc));
    for (let i = 0; i < n; i++) {
      const p = startProc(`terminals-${i}`, 'load/terminals.js');
      if (progress) p.onProgress = (m) => progress(`generator ${i}: ${m}`);
      fleet.procs.push(p);
    }
    return fleet;
  }

  get pids(): number[] {
    return this.procs.map((p) => p.pid);
  }

  async connect(
    url: string,
    sns: string[],
    opts: { concurrency?: number; timeoutMs?: number; impl?: 'sim' | 'raw'; regTimeoutMs?: number } = {},
  ) {
    const chunks = this.procs.map((_, i) => sns.filter((__, j) => j % this.procs.length === i));
    const results = await Promise.all(
      this.procs.map((p, i) =>
        p.call<{
          connected: number;
          failed: number;
          errors: string[];
          ms: number;
          regP50: number;
          regP95: number;
          regP99: number;
          regMax: number;
        }>(
          'connect',
          {
            url,
            sns: chunks[i],
            concurrency: opts.concurrency ?? 100,
            impl: opts.impl ?? 'sim',
            timeoutMs: opts.regTimeoutMs ?? 30_000,
            deadlineMs: opts.timeoutMs ?? 300_000,
          },
          (opts.timeoutMs ?? 300_000) + 60_000,
        ),
      ),
    );
    this.connected += results.reduce((a, r) => a + r.connected, 0);
    const failed = results.reduce((a, r) => a + r.failed, 0);
    return {
      connected: results.reduce((a, r) => a + r.connected, 0),
      held: this.connected,
      failed,
      errors: results.flatMap((r) => r.errors).slice(0, 5),
      ms: Math.max(...results.map((r) => r.ms)),
      regP50: Math.max(...results.map((r) => r.regP50 ?? 0)),
      regP95: Math.max(...results.map((r) => r.regP95 ?? 0)),
      regMax: Math.max(...results.map((r) => r.regMax ?? 0)),
    };
  }

  async ingest(opts: {
    recordsPerFrame: number;
    warmupMs: number;
    durationMs: number;
    firstRecord?: number;
  }): Promise<IngestSummary> {
    const outcomes = await Promise.all(
      this.procs.map((p) => p.call<IngestOutcome>('ingest', { ...opts }, opts.warmupMs + opts.durationMs + 90_000)),
    );
    const latencies = outcomes.flatMap((o) => o.latencies);
    const windowMs = Math.max(...outcomes.map((o) => o.windowMs));
    const measured = outcomes.reduce((a, o) => a + o.measuredRecords, 0);
    const acked = Object.assign({}, ...outcomes.map((o) => o.acked)) as Record<string, number>;
    const sent = Object.assign({}, ...outcomes.map((o) => o.sent)) as Record<string, number>;
    return {
      recordsPerSecond: windowMs > 0 ? (measured * 1000) / windowMs : 0,
      ack: summarize(latencies),
      refused: outcomes.reduce((a, o) => a + o.refused, 0),
      timeouts: outcomes.reduce((a, o) => a + o.timeouts, 0),
      acked,
      sent,
      totalAcked: Object.values(acked).reduce((a, b) => a + b, 0),
    };
  }

  async stats(): Promise<{ open: number; closedUnexpectedly: number; commands: Record<string, number> }> {
    const all = await Promise.all(
      this.procs.map((p) =>
        p.call<{ open: number; closedUnexpectedly: number; commands: Record<string, number> }>('stats', {}, 30_000),
      ),
    );
    const commands: Record<string, number> = {};
    for (const s of all) for (const [k, v] of Object.entries(s.commands)) commands[k] = (commands[k] ?? 0) + v;
    return {
      open: all.reduce((a, s) => a + s.open, 0),
      closedUnexpectedly: all.reduce((a, s) => a + s.closedUnexpectedly, 0),
      commands,
    };
  }

  async close(): Promise<void> {
    await Promise.all(this.procs.map((p) => p.call('close', {}, 60_000).catch(() => undefined)));
    this.connected = 0;
  }

  async stop(): Promise<void> {
    await Promise.all(this.procs.map((p) => p.stop(3000)));
    this.procs = [];
  }
}

export interface Baseline {
  kind: 'bare' | 'peer';
  proc: Proc;
  pid: number;
  wsUrl: string;
  httpUrl: string;
  /** The peer's database (with name); undefined for bare. */
  dbUri?: string;
  /** The bare server's append-only log file. */
  logFile?: string;
  stop(): Promise<void>;
}

export interface BaselineOptions {
  pingIntervalMs?: number;
  /** Peer: files under a data dir (fsync measured) rather than in memory. */
  durable?: boolean;
  /** Peer: index definitions copied from the product's database, by collection. */
  indexes?: Record<string, IndexDescription[]>;
  leaseRefreshMs?: number;
  execArgv?: string[];
}

export async function startBaseline(kind: 'bare' | 'peer', opts: BaselineOptions = {}): Promise<Baseline> {
  const wsPort = await freePort();
  const httpPort = await freePort();
  const proc = startProc(`${kind}-server`, `baselines/${kind}-server.js`, { execArgv: opts.execArgv });
  const dir = tempDir(kind);
  const logFile = kind === 'bare' ? `${dir}/sendlog.jsonl` : undefined;
  const started = await proc.call<{ pid: number; dbUri?: string }>(
    'start',
    {
      wsPort,
      httpPort,
      pingIntervalMs: opts.pingIntervalMs ?? 0,
      logFile,
      jwtSecret: BENCH_JWT_SECRET,
      dataDir: opts.durable ? dir : undefined,
      indexes: opts.indexes ?? {},
      leaseRefreshMs: opts.leaseRefreshMs ?? 0,
    },
    60_000,
  );
  return {
    kind,
    proc,
    pid: proc.pid,
    wsUrl: `ws://127.0.0.1:${wsPort}/pub/chat`,
    httpUrl: `http://127.0.0.1:${httpPort}`,
    dbUri: started.dbUri,
    logFile,
    stop: async () => {
      if (kind === 'peer') await proc.call('stop', {}, 30_000).catch(() => undefined);
      await proc.stop(5000);
    },
  };
}

/** The product's index definitions for some collections (so the peer queries with the same indexes). */
export async function readIndexes(
  client: MongoClient,
  collections: string[],
): Promise<Record<string, IndexDescription[]>> {
  const out: Record<string, IndexDescription[]> = {};
  for (const name of collections) {
    const list = await client
      .db()
      .collection(name)
      .listIndexes()
      .toArray()
      .catch(() => []);
    out[name] = list
      .filter((ix) => ix.name !== '_id_')
      .map((ix) => ({
        key: ix.key as IndexDescription['key'],
        name: ix.name as string,
        ...(ix.unique ? { unique: true } : {}),
        ...(ix.sparse ? { sparse: true } : {}),
        ...(ix.partialFilterExpression ? { partialFilterExpression: ix.partialFilterExpression } : {}),
        ...(ix.expireAfterSeconds !== undefined ? { expireAfterSeconds: ix.expireAfterSeconds } : {}),
      }));
  }
  return out;
}

export function sns(prefix: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}${String(i).padStart(5, '0')}`);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface RequestSpec {
  method: string;
  path: string;
  body?: string;
}

export interface HttpLoadOutcome {
  latencies: number[];
  measured: number;
  total: number;
  errors: number;
  statuses: Record<string, number>;
  samples: string[];
  avgBytes: number;
  windowMs: number;
}

/** Closed-loop HTTP load from its own process: one worker (and keep-alive connection) per request list. */
export async function httpLoad(opts: {
  baseUrl: string;
  perWorker: RequestSpec[][];
  headers?: Record<string, string>;
  warmupMs: number;
  durationMs: number;
  okStatus?: number[];
  progress?: (m: string) => void;
}): Promise<HttpLoadOutcome & { rps: number; p50: number; p99: number }> {
  const proc = startProc('http-load', 'load/http-load.js');
  if (opts.progress) proc.onProgress = opts.progress;
  try {
    const { progress: _p, ...payload } = opts;
    const out = await proc.call<HttpLoadOutcome>('run', payload, opts.warmupMs + opts.durationMs + 90_000);
    const s = summarize(out.latencies);
    return { ...out, rps: out.windowMs > 0 ? (out.measured * 1000) / out.windowMs : 0, p50: s.p50, p99: s.p99 };
  } finally {
    await proc.stop(2000);
  }
}
