import * as net from 'node:net';
import { type ConnectionInfo, MAX_MESSAGE_SIZE, runCommand, type ServerState } from './commands';
import { CommandError } from './errors';
import type { Doc } from './values';
import {
  encodeOpMsg,
  encodeOpReply,
  HEADER_SIZE,
  MSG_MORE_TO_COME,
  OP_MSG,
  OP_QUERY,
  parseOpMsg,
  parseOpQuery,
  ProtocolError,
  readHeader,
} from './wire';

/** Waits until every change up to a sequence number is durable (a no-op in memory). */
export type DurabilityWait = (seq: number) => Promise<void>;

const MAX_CONNECTIONS = 10_000;
// Bytes the server may hold for one connection beyond the message being assembled.
const QUERY_FAILURE = 1 << 1;

/**
 * One client connection: assembles messages from the byte stream, runs them one at a time in
 * arrival order, and answers each after its writes are durable. Reading pauses while a message is
 * being answered, so a client cannot make the server buffer more than one message.
 */
class Connection {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private busy = false;
  private closed = false;
  private nextRequestId = 1;
  readonly info: ConnectionInfo;

  constructor(
    private readonly socket: net.Socket,
    id: number,
    private readonly state: ServerState,
    private readonly durable: DurabilityWait,
    private readonly log: (msg: string) => void,
  ) {
    this.info = { id, remote: `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}` };
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => this.close());
    socket.on('close', () => {
      this.closed = true;
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.chunks = [];
    this.buffered = 0;
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    if (!this.busy) void this.pump();
  }

  private peekLength(): number | undefined {
    if (this.buffered < 4) return undefined;
    if (this.chunks[0].length < 4) this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0].readInt32LE(0);
  }

  private take(n: number): Buffer {
    const all = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
    const msg = all.subarray(0, n);
    const rest = all.subarray(n);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.buffered = rest.length;
    // Copy so the (possibly large) read buffer is not kept alive by the message.
    return Buffer.from(msg);
  }

  private async pump(): Promise<void> {
    this.busy = true;
    try {
      while (!this.closed) {
        const len = this.peekLength();
        if (len === undefined) break;
        if (len < HEADER_SIZE || len > MAX_MESSAGE_SIZE) {
          this.log(`connection ${this.info.id}: bad message length ${len}, closing`);
          this.close();
          return;
        }
        if (this.buffered < len) break;
        const msg = this.take(len);
        this.socket.pause();
        try {
          await this.handle(msg);
          // A client that does not read its replies stops being read from, so replies cannot pile up.
          if (this.socket.writableNeedDrain) await this.drained();
        } finally {
          if (!this.closed) this.socket.resume();
        }
      }
    } catch (e) {
      this.log(`connection ${this.info.id}: ${e instanceof Error ? e.message : String(e)}, closing`);
      this.close();
    } finally {
      this.busy = false;
    }
  }

  private drained(): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        this.socket.off('drain', done);
        this.socket.off('close', done);
        resolve();
      };
      this.socket.on('drain', done);
      this.socket.on('close', done);
    });
  }

  private async handle(msg: Buffer): Promise<void> {
    const h = readHeader(msg);
    if (h.opCode === OP_MSG) {
      let reply: Doc;
      let moreToCome = false;
      const before = this.state.store.seq;
      try {
        const { flags, command } = parseOpMsg(msg);
        moreToCome = (flags & MSG_MORE_TO_COME) !== 0;
        reply = runCommand(command, command.$db, this.state, this.info);
      } catch (e) {
        if (e instanceof ProtocolError) throw e;
        reply = invalidBson(e).toReply();
      }
      await this.awaitDurable(before);
      if (!moreToCome) this.send(encodeOpMsg(this.nextRequestId++, h.requestId, reply));
      return;
    }
    if (h.opCode === OP_QUERY) {
      let reply: Doc;
      let flags = 0;
      const before = this.state.store.seq;
      try {
        const q = parseOpQuery(msg);
        if (!q.ns.endsWith('.$cmd')) {
          flags = QUERY_FAILURE;
          reply = { $err: 'OP_QUERY is only supported for commands', code: 352, ok: 0 };
        } else {
          let cmd = q.query;
          if (cmd.$query !== null && typeof cmd.$query === 'object') cmd = cmd.$query as Doc;
          reply = runCommand(cmd, q.ns.slice(0, -'.$cmd'.length), this.state, this.info);
        }
      } catch (e) {
        if (e instanceof ProtocolError) throw e;
        flags = QUERY_FAILURE;
        const err = invalidBson(e);
        reply = { $err: err.message, code: err.code, ok: 0 };
      }
      await this.awaitDurable(before);
      this.send(encodeOpReply(this.nextRequestId++, h.requestId, [reply], flags));
      return;
    }
    throw new ProtocolError(`unsupported opcode ${h.opCode}`);
  }

  /**
   * Holds the reply until the command's changes are on disk. If they cannot be made durable the
   * connection is closed without a reply: the client must not take the write as acknowledged.
   */
  private async awaitDurable(before: number): Promise<void> {
    const after = this.state.store.seq;
    if (after === before) return;
    try {
      await this.durable(after);
    } catch (e) {
      throw new ProtocolError(`write not durable: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  private send(buf: Buffer): void {
    if (!this.closed) this.socket.write(buf);
  }
}

function invalidBson(e: unknown): CommandError {
  const msg = e instanceof Error ? e.message : String(e);
  return new CommandError(22, 'InvalidBSON', `invalid BSON in request: ${msg}`);
}

export interface WireServer {
  port: number;
  close(): Promise<void>;
  connectionCount(): number;
}

/** Where to listen: a loopback TCP port, or a Unix socket path. */
export type ListenAt = { host: string; port: number } | { path: string };

export async function listen(
  at: ListenAt,
  state: ServerState,
  durable: DurabilityWait,
  log: (msg: string) => void,
  counters: { current: number; total: number },
): Promise<WireServer> {
  const conns = new Set<Connection>();
  let nextId = 1;
  const server = net.createServer((socket) => {
    if (conns.size >= MAX_CONNECTIONS) {
      socket.destroy();
      return;
    }
    const conn = new Connection(socket, nextId++, state, durable, log);
    conns.add(conn);
    counters.current = conns.size;
    counters.total++;
    socket.on('close', () => {
      conns.delete(conn);
      counters.current = conns.size;
    });
  });
  server.on('error', (e) => log(`server error: ${e.message}`));
  await new Promise<void>((resolve, reject) => {
    const onError = (e: Error): void => reject(e);
    server.once('error', onError);
    server.listen('path' in at ? { path: at.path } : { port: at.port, host: at.host }, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const addr = server.address();
  return {
    port: typeof addr === 'object' && addr !== null ? addr.port : 0,
    connectionCount: () => conns.size,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of conns) c.close();
        conns.clear();
        server.close(() => resolve());
      }),
  };
}
