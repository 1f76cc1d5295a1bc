/**
 * The bare baseline of the frame-stall benchmark: a `ws` server that JSON.parses every frame and
 * does nothing else, and a `node:http` server answering every GET with a fixed body (the probe).
 */
import { createServer, type Server } from 'node:http';
import { WebSocketServer } from 'ws';
import { serveIpc } from '../lib/ipc-child';

let wss: WebSocketServer | undefined;
let http: Server | undefined;
let parsed = 0;
let failed = 0;

serveIpc({
  start: async (p) => {
    wss = new WebSocketServer({
      host: '127.0.0.1',
      port: Number(p.wsPort),
      maxPayload: Number(p.maxPayload),
      perMessageDeflate: false,
    });
    const listening = new Promise<void>((resolve) => wss!.once('listening', () => resolve()));
    wss.on('connection', (ws) => {
      ws.on('message', (data: Buffer) => {
        try {
          JSON.parse(data.toString('utf8'));
          parsed++;
        } catch {
          failed++;
        }
      });
    });
    http = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': 16 });
        res.end('{"success":true}');
      });
    });
    await new Promise<void>((resolve) => http!.listen(Number(p.httpPort), '127.0.0.1', resolve));
    await listening;
    return { pid: process.pid };
  },
  counts: () => Promise.resolve({ parsed, failed }),
  stop: async () => {
    wss?.close();
    await new Promise<void>((resolve) => (http ? http.close(() => resolve()) : resolve()));
    return {};
  },
});
