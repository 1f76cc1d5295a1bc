/**
 * A hostile client in its own process (so building and masking an 8 MB frame never disturbs the
 * probe in the benchmark process): `open` connects (and registers) and builds the frame, `fire`
 * sends it and waits, so the measured window holds the frame alone.
 */
import WebSocket from 'ws';
import { serveIpc } from '../lib/ipc-child';
import { buildFrame, type FrameKind } from './frames';

let pending: { ws: WebSocket; text: string; frames: string[]; closed: Promise<number> } | undefined;

serveIpc({
  open: async (p) => {
    const text = buildFrame(
      p.kind as FrameKind,
      String(p.sn),
      Number(p.maxBytes),
      Number(p.maxValues),
      Number(p.maxRecords),
    );
    const ws = new WebSocket(String(p.url), { perMessageDeflate: false, maxPayload: 64 * 1024 * 1024 });
    const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
    ws.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    const frames: string[] = [];
    ws.on('message', (d: Buffer) => frames.push(d.toString('utf8').slice(0, 200)));
    if (p.register === true) {
      const answered = new Promise<void>((resolve) => ws.once('message', () => resolve()));
      ws.send(JSON.stringify({ cmd: 'reg', sn: p.sn, cpusn: `CPU-${String(p.sn)}`, devinfo: { modelname: 'bench' } }));
      await answered;
    }
    pending = { ws, text, frames, closed };
    return { bytes: Buffer.byteLength(text) };
  },
  fire: async (p) => {
    if (!pending) throw new Error('open first');
    const { ws, text, frames, closed } = pending;
    pending = undefined;
    const before = frames.length;
    ws.send(text);
    // The server answers (an ack), closes the socket, or stays silent: the window is fixed either way.
    const code = await Promise.race([closed, new Promise<number>((r) => setTimeout(() => r(0), Number(p.waitMs)))]);
    ws.terminate();
    return {
      bytes: Buffer.byteLength(text),
      closeCode: code,
      replies: frames.length - before,
      firstReply: frames[before],
    };
  },
});
