/**
 * HTTP edge: what hostile bodies cost. Each body is posted sequentially (one connection each) to the
 * product and to a bare node:http server that only reads and JSON.parses it; then, while 4 clients
 * keep posting the heaviest body, GET /api/health is timed (the event loop must stay free).
 * Bodies: 100,000 `{}` records and 40,000 valid records to /api/device-log (413 before validation),
 * a 100,000-level nested array (400, refused before parsing), 50,000 enrollIds to delete-users (400).
 */
import { Agent, request } from 'node:http';
import type { Baseline } from './lib/harness';
import { httpJson } from './lib/http';
import { freePort } from './lib/ports';
import { startProc } from './lib/procs';
import { startProduct, ProductServer } from './lib/product';
import { round, summarize } from './lib/stats';
import type { BenchOptions, BenchResult, ResultRow } from './lib/types';

interface Body {
  name: string;
  path: string;
  text: string;
  expect: number;
  admin?: boolean;
}

function bodies(scale: number): Body[] {
  const records = Math.round(100_000 * scale);
  const valid = Math.round(40_000 * scale);
  const depth = Math.round(100_000 * scale);
  const ids = Math.round(50_000 * scale);
  return [
    {
      name: `${records} empty records`,
      path: '/api/device-log',
      text: JSON.stringify({ sn: 'EDGE-1', record: Array.from({ length: records }, () => ({})) }),
      expect: 413,
    },
    {
      name: `${valid} valid records`,
      path: '/api/device-log',
      text: JSON.stringify({
        sn: 'EDGE-1',
        record: Array.from({ length: valid }, (_, i) => ({ enrollid: (i % 9000) + 1, time: '2025-11-08 09:00:00' })),
      }),
      expect: 413,
    },
    {
      name: `${depth}-level nesting`,
      path: '/api/device-log',
      text: `{"sn":"EDGE-1","record":${'['.repeat(depth)}${']'.repeat(depth)}}`,
      expect: 400,
    },
    {
      name: `${ids} enrollIds`,
      path: '/api/device/EDGE-1/delete-users',
      text: JSON.stringify({ enrollIds: Array.from({ length: ids }, (_, i) => i + 1) }),
      expect: 400,
      admin: true,
    },
  ];
}

const oneShot = new Agent({ keepAlive: false });

/** POSTs raw JSON text (bodies JSON.stringify cannot build, like 100,000 levels of nesting). */
function postRaw(url: string, text: string, token: string | undefined): Promise<{ status: number; body: string }> {
  const payload = Buffer.from(text);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        agent: oneShot,
        timeout: 30_000,
        headers: {
          'content-type': 'application/json',
          'content-length': String(payload.length),
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`POST ${url} timed out`)));
    req.on('error', reject);
    req.end(payload);
  });
}

async function timePosts(url: string, body: Body, token: string | undefined, n: number): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const started = performance.now();
    const res = await postRaw(url + body.path, body.text, token);
    samples.push(performance.now() - started);
    if (res.status !== body.expect) {
      throw new Error(`${body.name}: expected ${body.expect}, got ${res.status} ${res.body.slice(0, 200)}`);
    }
  }
  return samples;
}

/** Health latency while `senders` clients post `body` back to back. */
async function healthUnderLoad(url: string, body: Body, token: string | undefined, ms: number): Promise<number[]> {
  let stop = false;
  const senders = Array.from({ length: 4 }, async () => {
    while (!stop) await timePosts(url, body, token, 1);
  });
  const samples: number[] = [];
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const started = performance.now();
    const res = await httpJson('GET', `${url}/api/health`, { timeoutMs: 30_000 });
    samples.push(performance.now() - started);
    if (res.status !== 200) throw new Error(`health answered ${res.status}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  stop = true;
  await Promise.all(senders);
  return samples;
}

export async function run(opts: BenchOptions): Promise<BenchResult> {
  const scale = opts.quick ? 0.1 : 1;
  const n = opts.quick ? 5 : 20;
  const loadMs = opts.quick ? 1000 : 5000;
  const list = bodies(scale);
  const rows: ResultRow[] = [];
  const runs: Record<'product' | 'bare', Record<string, number[]>> = { product: {}, bare: {} };

  opts.progress('edge: starting the product');
  const product: ProductServer = await startProduct({ name: 'edge', durable: false });
  const httpPort = await freePort();
  const proc = startProc('edge-bare', 'baselines/edge-bare-server.js');
  await proc.call('start', { httpPort }, 30_000);
  const bare: Pick<Baseline, 'httpUrl'> = { httpUrl: `http://127.0.0.1:${httpPort}` };
  try {
    for (const body of list) {
      for (const [sys, url] of [
        ['product', product.httpUrl],
        ['bare', bare.httpUrl],
      ] as const) {
        opts.progress(`edge: ${body.name} -> ${sys}`);
        const token = body.admin ? product.token : undefined;
        await timePosts(url, body, token, 2); // warm-up
        runs[sys][body.name] = await timePosts(url, body, token, n);
      }
      const p = summarize(runs.product[body.name]);
      const b = summarize(runs.bare[body.name]);
      rows.push(
        {
          case: `${body.name} (${Math.round(body.text.length / 1024)} KB)`,
          metric: 'refusal p50',
          unit: 'ms',
          better: 'lower',
          product: [round(p.p50)],
          bare: [round(b.p50)],
        },
        {
          case: `${body.name} (${Math.round(body.text.length / 1024)} KB)`,
          metric: 'refusal max',
          unit: 'ms',
          better: 'lower',
          product: [round(p.max)],
          bare: [round(b.max)],
        },
      );
    }
    const heaviest = list[1];
    for (const [sys, url] of [
      ['product', product.httpUrl],
      ['bare', bare.httpUrl],
    ] as const) {
      opts.progress(`edge: health under ${heaviest.name} -> ${sys}`);
      runs[sys].health = await healthUnderLoad(url, heaviest, undefined, loadMs);
    }
    const hp = summarize(runs.product.health);
    const hb = summarize(runs.bare.health);
    rows.push(
      {
        case: `GET /api/health while 4 clients post ${heaviest.name}`,
        metric: 'p50',
        unit: 'ms',
        better: 'lower',
        product: [round(hp.p50)],
        bare: [round(hb.p50)],
      },
      {
        case: `GET /api/health while 4 clients post ${heaviest.name}`,
        metric: 'max',
        unit: 'ms',
        better: 'lower',
        product: [round(hp.max)],
        bare: [round(hb.max)],
      },
    );
  } finally {
    await product.stop();
    await proc.stop(5000);
  }
  return {
    name: 'edge',
    title: 'HTTP edge: cost of hostile bodies (refused before validation) vs node:http + JSON.parse',
    rows,
    notes: [
      'bare = node:http reading the body and JSON.parse-ing it, nothing else: the floor for any JSON server.',
      'Figures on a shared machine are noisy; compare product and bare of the same run.',
    ],
    config: { scale, requestsPerBody: n, loadMs },
  };
}
