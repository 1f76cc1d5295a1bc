/**
 * The bare ceiling of the edge benchmark: node:http reading a whole body and JSON.parse-ing it (the
 * least any JSON server does), then answering 413 or 400 like the product's refusals; GET answers 200.
 */
import { createServer } from 'node:http';
import { serveIpc } from '../lib/ipc-child';

serveIpc({
  start: async (p) => {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        let status = 200;
        if (req.method === 'POST') {
          try {
            const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { record?: unknown };
            status = Array.isArray(body.record) && body.record.length > 1000 ? 413 : 400;
          } catch {
            status = 400;
          }
        }
        res.writeHead(status, { 'Content-Type': 'application/json' }).end('{"success":false}');
      });
    });
    await new Promise<void>((r) => server.listen(Number(p.httpPort), '127.0.0.1', () => r()));
    return { pid: process.pid };
  },
});
