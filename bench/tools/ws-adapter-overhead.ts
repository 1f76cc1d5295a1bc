/**
 * What Nest's WebSocket adapter (`@nestjs/platform-ws` + `@WebSocketGateway`) costs over a bare `ws`
 * server for the terminal protocol: live heap per held connection and routed frames per second.
 * Both servers parse the same JSON frames and route them by `cmd`; the adapter does it through its
 * `messageParser` and `@SubscribeMessage` handlers. Each server runs in a child process of its own
 * (`--expose-gc`, heap measured after a full GC); the terminals are raw `ws` clients in this process.
 *   node dist/bench/tools/ws-adapter-overhead.js [connections=2000] [frames=40000]
 */
import 'reflect-metadata';
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { WsAdapter } from '@nestjs/platform-ws';
import { MessageBody, SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { WebSocket, WebSocketServer } from 'ws';

type Frame = Record<string, unknown>;
type Kind = 'bare' | 'nest';

const REG_REPLY = (sn: unknown) => ({ ret: 'reg', result: true, sn, cloudtime: '2026-12-06 08:00:00' });
const LOG_REPLY = (f: Frame) => ({ ret: 'sendlog', result: true, count: f.count, logindex: f.logindex });

@WebSocketGateway({ path: '/' })
class TerminalRoutes {
  @SubscribeMessage('reg')
  reg(@MessageBody() frame: Frame) {
    return REG_REPLY(frame.sn);
  }

  @SubscribeMessage('sendlog')
  sendlog(@MessageBody() frame: Frame) {
    return LOG_REPLY(frame);
  }
}

@Module({ providers: [TerminalRoutes] })
class AdapterModule {}

/** The adapter's reply to `return x` is `JSON.stringify(x)` only when x has no `event`; ours have none. */
async function serveNest(): Promise<number> {
  const app = await NestFactory.create(AdapterModule, { logger: false });
  app.useWebSocketAdapter(
    new WsAdapter(app, {
      messageParser: (data: unknown) => {
        const frame = JSON.parse(String(data)) as Frame;
        return { event: String(frame.cmd), data: frame };
      },
    }),
  );
  await app.listen(0, '127.0.0.1');
  return (app.getHttpServer().address() as AddressInfo).port;
}

async function serveBare(): Promise<number> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await once(wss, 'listening');
  wss.on('connection', (ws) => {
    ws.on('message', (data: Buffer) => {
      const frame = JSON.parse(data.toString()) as Frame;
      if (frame.cmd === 'reg') ws.send(JSON.stringify(REG_REPLY(frame.sn)));
      else if (frame.cmd === 'sendlog') ws.send(JSON.stringify(LOG_REPLY(frame)));
    });
  });
  return (wss.address() as AddressInfo).port;
}

function heapAfterGc(): { heap: number; rss: number } {
  const gc = (globalThis as { gc?: () => void }).gc;
  for (let i = 0; i < 3; i++) gc?.();
  return { heap: process.memoryUsage().heapUsed, rss: process.memoryUsage().rss };
}

async function child(kind: Kind): Promise<void> {
  const port = kind === 'nest' ? await serveNest() : await serveBare();
  process.send?.({ port });
  process.on('message', (msg: { measure?: string }) => {
    if (msg.measure) process.send?.({ label: msg.measure, ...heapAfterGc() });
  });
}

function ask(proc: ChildProcess, label: string): Promise<{ heap: number; rss: number }> {
  return new Promise((resolve) => {
    const onMessage = (m: { label?: string; heap: number; rss: number }) => {
      if (m.label !== label) return;
      proc.off('message', onMessage);
      resolve(m);
    };
    proc.on('message', onMessage);
    proc.send({ measure: label });
  });
}

function request(ws: WebSocket, frame: Frame): Promise<void> {
  return new Promise((resolve) => {
    ws.once('message', () => resolve());
    ws.send(JSON.stringify(frame));
  });
}

async function measure(kind: Kind, connections: number, frames: number) {
  const proc = fork(__filename, ['--child', kind], { execArgv: ['--expose-gc'] });
  const [{ port }] = (await once(proc, 'message')) as [{ port: number }];
  const empty = await ask(proc, 'empty');
  const sockets: WebSocket[] = [];
  for (let i = 0; i < connections; i += 100) {
    await Promise.all(
      Array.from({ length: Math.min(100, connections - i) }, async (_, j) => {
        const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
        await once(ws, 'open');
        await request(ws, { cmd: 'reg', sn: `ADPT${String(i + j).padStart(6, '0')}`, devinfo: { modelname: 'x' } });
        sockets.push(ws);
      }),
    );
  }
  const held = await ask(proc, 'held');
  const record = { enrollid: 1, time: '2026-12-06 08:00:00', mode: 1, inout: 0, event: 0 };
  const perSocket = Math.ceil(frames / 50);
  const started = process.hrtime.bigint();
  await Promise.all(
    sockets.slice(0, 50).map(async (ws) => {
      for (let k = 0; k < perSocket; k++) {
        await request(ws, { cmd: 'sendlog', sn: 'x', count: 1, logindex: k, record: [record] });
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  for (const ws of sockets) ws.terminate();
  proc.kill();
  return {
    heapPerConnectionKB: (held.heap - empty.heap) / connections / 1024,
    rssPerConnectionKB: (held.rss - empty.rss) / connections / 1024,
    framesPerSecond: (perSocket * 50) / seconds,
  };
}

async function main(): Promise<void> {
  const connections = Number(process.argv[2] ?? 2000);
  const frames = Number(process.argv[3] ?? 40_000);
  const rows: Record<string, Awaited<ReturnType<typeof measure>>> = {};
  for (const kind of ['bare', 'nest', 'bare', 'nest'] as const) {
    const r = await measure(kind, connections, frames);
    const prev = rows[kind];
    // Two rounds each, interleaved; keep the better of the two (less disturbed by other load).
    rows[kind] = prev
      ? {
          heapPerConnectionKB: Math.min(prev.heapPerConnectionKB, r.heapPerConnectionKB),
          rssPerConnectionKB: Math.min(prev.rssPerConnectionKB, r.rssPerConnectionKB),
          framesPerSecond: Math.max(prev.framesPerSecond, r.framesPerSecond),
        }
      : r;
  }
  const fmt = (n: number) => n.toFixed(2);
  console.log(`${connections} connections, ${frames} sendlog round trips over 50 of them`);
  for (const kind of ['bare', 'nest'] as const) {
    const r = rows[kind];
    console.log(
      `${kind === 'bare' ? 'bare ws        ' : 'Nest WsAdapter '} heap/conn ${fmt(r.heapPerConnectionKB)} KB, ` +
        `rss/conn ${fmt(r.rssPerConnectionKB)} KB, ${Math.round(r.framesPerSecond)} frames/s`,
    );
  }
  console.log(
    `adapter adds ${fmt(rows.nest.heapPerConnectionKB - rows.bare.heapPerConnectionKB)} KB live heap per connection; ` +
      `frames/s ratio ${(rows.nest.framesPerSecond / rows.bare.framesPerSecond).toFixed(2)}`,
  );
}

if (process.argv[2] === '--child') {
  void child(process.argv[3] as Kind);
} else {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
