/**
 * The bare ceiling: `ws` and `node:http` only, doing the protocol work and nothing else.
 * - terminals: reg, liveness pings, sendlog appended to a file and fsynced (group commit) before the ack;
 * - POST /api/device/:sn/add-user: relays `adduser` to the terminal and answers with its reply;
 * - any GET: a fixed JSON body (the size of the product's answer).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { serveIpc } from '../lib/ipc-child';
import { ownMemory } from '../lib/memory';
import { GroupCommitFile } from './group-commit-file';
import { TerminalHub } from './terminal-hub';

let hub: TerminalHub | undefined;
const file = new GroupCommitFile();
let fixedBody = Buffer.from('{"success":true}');

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: Buffer | string): void {
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const m = /^\/api\/device\/([^/]+)\/add-user$/.exec(req.url ?? '');
  if (req.method === 'POST' && m) {
    const sn = decodeURIComponent(m[1]);
    const body = JSON.parse(await readBody(req)) as Record<string, unknown>;
    if (!hub!.isConnected(sn)) return send(res, 409, '{"success":false,"error":"device_offline_or_not_registered"}');
    try {
      const reply = await hub!.command(
        sn,
        { cmd: 'adduser', enrollid: body.enrollid, backupnum: body.backupnum, admin: 0, name: body.name, flag: 10 },
        10_000,
      );
      return send(res, 200, JSON.stringify({ success: true, status: 'success', response: reply }));
    } catch {
      return send(res, 504, '{"success":false,"error":"device_timeout"}');
    }
  }
  if (req.method === 'GET') {
    await readBody(req);
    return send(res, 200, fixedBody);
  }
  send(res, 404, '{"success":false}');
}

serveIpc({
  start: async (p) => {
    if (typeof p.logFile === 'string') await file.open(p.logFile);
    hub = new TerminalHub({
      onReg: async () => undefined,
      storeLogs: async (sn, records) => {
        const lines = records.map((r) => JSON.stringify({ sn, ...r.raw })).join('\n');
        await file.append(Buffer.from(`${lines}\n`));
      },
    });
    await hub.listen(Number(p.wsPort), Number(p.pingIntervalMs ?? 0));
    if (p.httpPort) {
      const server = createServer((req, res) => {
        handle(req, res).catch(() => send(res, 500, '{"success":false}'));
      });
      server.keepAliveTimeout = 60_000;
      await new Promise<void>((r) => server.listen(Number(p.httpPort), '127.0.0.1', () => r()));
    }
    return { pid: process.pid };
  },
  setBody: async (p) => {
    // A body of exactly n bytes: {"success":true,"pad":"xxx"} padded to the size.
    const n = Number(p.bytes);
    const overhead = Buffer.byteLength('{"success":true,"pad":""}');
    fixedBody = Buffer.from(JSON.stringify({ success: true, pad: 'x'.repeat(Math.max(0, n - overhead)) }));
    return { bytes: fixedBody.length };
  },
  stats: async () => ({
    connected: hub?.connectedCount() ?? 0,
    recordsStored: hub?.recordsStored ?? 0,
    syncs: file.syncs,
    rss: process.memoryUsage().rss,
  }),
  /** V8 heap spaces, external memory (rss-per-terminal compares them with the product's). */
  memory: async () => ownMemory(),
});
