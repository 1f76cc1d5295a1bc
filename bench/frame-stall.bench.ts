/**
 * Event-loop stall during the worst single frame the gateway accepts (issue 13). A hostile client
 * (its own process) sends one frame at WS_MAX_PAYLOAD / DEVICE_FRAME_MAX_VALUES; meanwhile this
 * process probes the server with back-to-back GETs on one keep-alive connection, and the worst
 * probe latency in the window is the stall (the idle probe latency is reported beside it).
 * Product (`GET` of an unknown route: a 404 from the HTTP stack, no database) vs bare (`ws` + JSON.parse of the
 * same frame, `node:http` answering a fixed body).
 */
import { Agent, request } from 'node:http';
import { freePort } from './lib/ports';
import { startProc, type Proc } from './lib/procs';
import { startProduct } from './lib/product';
import { round, summarize } from './lib/stats';
import type { BenchOptions, BenchResult, ResultRow } from './lib/types';
import { FRAME_KINDS, type FrameKind } from './load/frames';

const MAX_PAYLOAD = 8 * 1024 * 1024;
const MAX_VALUES = 20_000;
const MAX_RECORDS = 100;
const WINDOW_MS = 3000;
const IDLE_MS = 1000;

interface Target {
  system: 'product' | 'bare';
  wsUrl: string;
  probeUrl: string;
  stop(): Promise<void>;
}

/** Back-to-back GETs until stopped; each sample is [startedAt, latency ms]. */
function startProbe(url: string): { stop(): Promise<[number, number][]> } {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const samples: [number, number][] = [];
  let running = true;
  const once = () =>
    new Promise<void>((resolve) => {
      const started = performance.now();
      const at = Date.now();
      const req = request(url, { agent, timeout: 30_000 }, (res) => {
        res.resume();
        res.on('end', () => {
          samples.push([at, performance.now() - started]);
          resolve();
        });
      });
      req.on('error', () => resolve());
      req.end();
    });
  const loop = (async () => {
    while (running) await once();
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      agent.destroy();
      return samples;
    },
  };
}

async function measure(
  target: Target,
  sender: Proc,
  kind: FrameKind,
  run: number,
): Promise<{ idleP50: number; worst: number; detail: Record<string, unknown> }> {
  await sender.call(
    'open',
    {
      url: target.wsUrl,
      kind,
      sn: `STALL-${kind}-${target.system}-${run}`.toUpperCase(),
      register: target.system === 'product' && FRAME_KINDS[kind].register,
      maxBytes: MAX_PAYLOAD,
      maxValues: MAX_VALUES,
      maxRecords: MAX_RECORDS,
    },
    60_000,
  );
  const probe = startProbe(target.probeUrl);
  await new Promise((r) => setTimeout(r, IDLE_MS));
  const windowStart = Date.now();
  const sent = await sender.call<Record<string, unknown>>('fire', { waitMs: WINDOW_MS }, 60_000);
  const samples = await probe.stop();
  const idle = samples.filter(([at]) => at < windowStart).map(([, ms]) => ms);
  const during = samples.filter(([at]) => at >= windowStart).map(([, ms]) => ms);
  return {
    idleP50: summarize(idle).p50,
    worst: summarize(during).max,
    detail: { ...sent, probesIdle: idle.length, probesDuring: during.length },
  };
}

async function startBare(): Promise<Target> {
  const wsPort = await freePort();
  const httpPort = await freePort();
  const proc = startProc('bare-parse-server', 'baselines/bare-parse-server.js');
  await proc.call('start', { wsPort, httpPort, maxPayload: MAX_PAYLOAD }, 30_000);
  return {
    system: 'bare',
    wsUrl: `ws://127.0.0.1:${wsPort}/pub/chat`,
    probeUrl: `http://127.0.0.1:${httpPort}/api/health`,
    stop: async () => {
      await proc.call('stop', {}, 10_000).catch(() => undefined);
      await proc.stop(5000);
    },
  };
}

async function startProductTarget(): Promise<Target> {
  const server = await startProduct({ name: 'frame-stall', durable: false });
  return {
    system: 'product',
    wsUrl: server.wsUrl,
    // A route that does not exist: answered by the HTTP stack (Nest, filters) without the database,
    // so the probe sees the event loop and not the database's queue.
    probeUrl: `${server.httpUrl}/api/stall-probe`,
    stop: () => server.stop(),
  };
}

export async function run(opts: BenchOptions): Promise<BenchResult> {
  const kinds = Object.keys(FRAME_KINDS) as FrameKind[];
  const runs = opts.quick ? 1 : 2;
  const sender = startProc('frame-sender', 'load/frame-sender.js');
  const figures = new Map<string, { product: number[]; bare: number[] }>();
  const idle = { product: [] as number[], bare: [] as number[] };
  const details: Record<string, unknown>[] = [];
  try {
    for (let r = 0; r < runs; r++) {
      for (const start of [startProductTarget, startBare]) {
        const target = await start();
        try {
          for (const kind of kinds) {
            opts.progress(`frame-stall: run ${r + 1}/${runs}, ${target.system}, ${kind}`);
            const m = await measure(target, sender, kind, r);
            const row = figures.get(kind) ?? { product: [], bare: [] };
            row[target.system].push(round(m.worst, 1));
            figures.set(kind, row);
            idle[target.system].push(m.idleP50);
            details.push({ run: r + 1, system: target.system, kind, ...m.detail });
          }
        } finally {
          await target.stop();
        }
      }
    }
  } finally {
    await sender.stop();
  }
  const rows: ResultRow[] = kinds.map((kind) => ({
    case: FRAME_KINDS[kind].label,
    metric: 'worst probe latency while the frame is handled',
    unit: 'ms',
    better: 'lower',
    product: figures.get(kind)!.product,
    bare: figures.get(kind)!.bare,
  }));
  rows.push({
    case: 'idle (1 s before each frame)',
    metric: 'probe latency p50',
    unit: 'ms',
    better: 'lower',
    product: [round(summarize(idle.product).p50, 2)],
    bare: [round(summarize(idle.bare).p50, 2)],
  });
  const productDetails = details.filter((d) => d.system === 'product');
  return {
    name: 'frame-stall',
    title: 'Event-loop stall during the worst single frame the gateway accepts',
    rows,
    checks: [
      {
        what: 'every product frame ended as designed (before registration: closed 1008; others: socket kept)',
        ok: productDetails.every((d) => (d.kind === 'concatenated' ? d.closeCode === 1008 : d.closeCode === 0)),
        detail: JSON.stringify(productDetails.map((d) => [d.kind, d.closeCode, d.replies])),
      },
      {
        what: 'the sendlog within the limits was acknowledged result:true, the larger one result:false',
        ok: productDetails.every(
          (d) =>
            (d.kind !== 'max-sendlog' || String(d.firstReply).includes('"result":true')) &&
            (d.kind !== 'over-sendlog' || String(d.firstReply).includes('"result":false')),
        ),
      },
    ],
    notes: [
      'Stall = the worst latency of back-to-back GETs (one keep-alive connection) sent by the benchmark process while another process sends the frame; it includes the HTTP round trip (idle p50 beside it).',
      'bare = `ws` + JSON.parse of the same frame and nothing else; the product also scans it (limits), routes, answers and, for sendlog, validates and stores every record.',
      'The machine is shared by several developers: figures are noisy.',
    ],
    config: {
      maxPayloadBytes: MAX_PAYLOAD,
      maxValues: MAX_VALUES,
      maxRecords: MAX_RECORDS,
      windowMs: WINDOW_MS,
      runs,
      details,
    },
  };
}
