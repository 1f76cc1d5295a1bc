import { deserialize, serialize } from 'bson';
import { MongoClient } from 'mongodb';
import * as net from 'node:net';
import { type EmbeddedMongo, start } from './index';
import { crc32c, MSG_CHECKSUM_PRESENT, MSG_MORE_TO_COME, OP_MSG, OP_QUERY, parseOpMsg, ProtocolError } from './wire';

jest.setTimeout(30_000);

type Doc = Record<string, unknown>;

const ser = (d: Doc): Buffer => Buffer.from(serialize(d));

function frame(opCode: number, requestId: number, body: Buffer): Buffer {
  const h = Buffer.alloc(16);
  h.writeInt32LE(16 + body.length, 0);
  h.writeInt32LE(requestId, 4);
  h.writeInt32LE(0, 8);
  h.writeInt32LE(opCode, 12);
  return Buffer.concat([h, body]);
}

function opMsg(
  requestId: number,
  cmd: Doc,
  opts: { flags?: number; checksum?: boolean; sequences?: Array<[string, Doc[]]> } = {},
): Buffer {
  const flags = (opts.flags ?? 0) | (opts.checksum ? MSG_CHECKSUM_PRESENT : 0);
  const parts: Buffer[] = [Buffer.alloc(4), Buffer.from([0]), ser(cmd)];
  parts[0].writeUInt32LE(flags, 0);
  for (const [id, docs] of opts.sequences ?? []) {
    const payload = Buffer.concat([Buffer.from(id + '\0'), ...docs.map((d) => ser(d))]);
    const size = Buffer.alloc(4);
    size.writeInt32LE(4 + payload.length, 0);
    parts.push(Buffer.from([1]), size, payload);
  }
  let msg = frame(OP_MSG, requestId, Buffer.concat(parts));
  if (opts.checksum) {
    msg = Buffer.concat([msg, Buffer.alloc(4)]);
    msg.writeInt32LE(msg.length, 0);
    msg.writeUInt32LE(crc32c(msg.subarray(0, msg.length - 4)), msg.length - 4);
  }
  return msg;
}

function opQuery(requestId: number, ns: string, query: Doc): Buffer {
  const flags = Buffer.alloc(4);
  const nums = Buffer.alloc(8);
  nums.writeInt32LE(0, 0);
  nums.writeInt32LE(-1, 4);
  return frame(OP_QUERY, requestId, Buffer.concat([flags, Buffer.from(ns + '\0'), nums, ser(query)]));
}

/** A raw client socket that collects whole reply frames and notices when the server closes. */
class Raw {
  readonly socket: net.Socket;
  private buf = Buffer.alloc(0);
  private waiting: Array<(b: Buffer) => void> = [];
  readonly frames: Buffer[] = [];
  readonly closed: Promise<void>;

  private constructor(port: number) {
    this.socket = net.connect(port, '127.0.0.1');
    this.socket.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      while (this.buf.length >= 4 && this.buf.length >= this.buf.readInt32LE(0)) {
        const len = this.buf.readInt32LE(0);
        const f = this.buf.subarray(0, len);
        this.buf = this.buf.subarray(len);
        const w = this.waiting.shift();
        if (w) w(f);
        else this.frames.push(f);
      }
    });
    this.socket.on('error', () => undefined);
    this.closed = new Promise((resolve) => this.socket.on('close', () => resolve()));
  }

  static async open(port: number): Promise<Raw> {
    const r = new Raw(port);
    await new Promise<void>((resolve, reject) => {
      r.socket.once('connect', () => resolve());
      r.socket.once('error', reject);
    });
    return r;
  }

  send(b: Buffer): void {
    this.socket.write(b);
  }

  next(): Promise<Buffer> {
    const f = this.frames.shift();
    if (f) return Promise.resolve(f);
    return new Promise((resolve, reject) => {
      this.waiting.push(resolve);
      void this.closed.then(() => reject(new Error('closed before a reply')));
    });
  }

  async command(
    requestId: number,
    cmd: Doc,
    opts?: Parameters<typeof opMsg>[2],
  ): Promise<{ responseTo: number; reply: Doc }> {
    this.send(opMsg(requestId, cmd, opts));
    const f = await this.next();
    return { responseTo: f.readInt32LE(8), reply: parseOpMsg(f).command };
  }

  close(): void {
    this.socket.destroy();
  }
}

describe('wire format helpers', () => {
  it('computes CRC-32C', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
    expect(crc32c(Buffer.alloc(0))).toBe(0);
    // Eight bytes a step and the tail one by one agree with the byte-at-a-time definition.
    const bytewise = (buf: Uint8Array): number => {
      let c = ~0 >>> 0;
      for (const byte of buf) {
        c ^= byte;
        for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
      }
      return ~c >>> 0;
    };
    const data = Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 131 + 7) & 0xff));
    for (const n of [1, 7, 8, 9, 15, 16, 17, 64, 299, 300])
      expect(crc32c(data.subarray(0, n))).toBe(bytewise(data.subarray(0, n)));
  });

  it('parses kind-0 and kind-1 sections and rejects malformed ones', () => {
    const msg = opMsg(1, { insert: 'c', $db: 'd' }, { sequences: [['documents', [{ a: 1 }, { a: 2 }]]] });
    expect(parseOpMsg(msg).command).toEqual({ insert: 'c', $db: 'd', documents: [{ a: 1 }, { a: 2 }] });
    const checked = opMsg(2, { ping: 1, $db: 'admin' }, { checksum: true });
    expect(parseOpMsg(checked).command).toEqual({ ping: 1, $db: 'admin' });
    const corrupted = Buffer.from(checked);
    corrupted[corrupted.length - 8] ^= 0xff;
    expect(() => parseOpMsg(corrupted)).toThrow(ProtocolError);
    const badKind = Buffer.from(msg);
    badKind[20] = 7;
    expect(() => parseOpMsg(badKind)).toThrow(ProtocolError);
    expect(() => parseOpMsg(msg.subarray(0, 30))).toThrow(ProtocolError);
    const twoBodies = frame(
      OP_MSG,
      3,
      Buffer.concat([Buffer.alloc(4), Buffer.from([0]), ser({ a: 1 }), Buffer.from([0]), ser({ b: 1 })]),
    );
    expect(() => parseOpMsg(twoBodies)).toThrow(ProtocolError);
  });
});

describe('embedded-mongo wire protocol and bad input', () => {
  let server: EmbeddedMongo;
  let client: MongoClient;

  beforeAll(async () => {
    server = await start({ port: 0, quiet: true });
    client = await MongoClient.connect(server.uri);
  });

  afterAll(async () => {
    await client?.close();
    await server?.stop();
  });

  async function stillServing(): Promise<void> {
    const c = client.db('wire').collection('alive');
    await c.insertOne({ at: new Date() });
    expect(await client.db('admin').command({ ping: 1 })).toEqual({ ok: 1 });
  }

  it('answers the legacy OP_QUERY handshake with OP_REPLY', async () => {
    const raw = await Raw.open(server.port);
    try {
      raw.send(opQuery(7, 'admin.$cmd', { isMaster: 1, client: { driver: { name: 'raw' } } }));
      const f = await raw.next();
      expect(f.readInt32LE(12)).toBe(1);
      expect(f.readInt32LE(8)).toBe(7);
      expect(f.readInt32LE(16 + 16)).toBe(1);
      const doc = deserialize(f.subarray(36));
      expect(doc).toMatchObject({ ismaster: true, ok: 1, maxWireVersion: expect.any(Number) });
      raw.send(opQuery(8, 'wire.things', { find: 'x' }));
      const legacyFind = await raw.next();
      expect(legacyFind.readInt32LE(16) & 2).toBe(2);
      const { reply } = await raw.command(9, { hello: 1, $db: 'admin' });
      expect(reply.isWritablePrimary).toBe(true);
    } finally {
      raw.close();
    }
  });

  it('handles document sequences, checksums and moreToCome', async () => {
    const raw = await Raw.open(server.port);
    try {
      const ins = await raw.command(
        1,
        { insert: 'seq', $db: 'wire' },
        { sequences: [['documents', [{ _id: 1 }, { _id: 2 }, { _id: 3 }]]], checksum: true },
      );
      expect(ins).toEqual({ responseTo: 1, reply: { n: 3, ok: 1 } });
      raw.send(
        opMsg(
          2,
          { insert: 'seq', $db: 'wire', documents: [{ _id: 4 }], writeConcern: { w: 0 } },
          { flags: MSG_MORE_TO_COME },
        ),
      );
      const ping = await raw.command(3, { ping: 1, $db: 'admin' });
      expect(ping.responseTo).toBe(3);
      expect(await client.db('wire').collection('seq').countDocuments()).toBe(4);
    } finally {
      raw.close();
    }
  });

  it('answers garbage BSON inside a well-framed message with an error and keeps the connection', async () => {
    const raw = await Raw.open(server.port);
    try {
      const bad = ser({ ping: 1, $db: 'admin' });
      bad[4] = 0x7f; // an unknown element type
      raw.send(frame(OP_MSG, 1, Buffer.concat([Buffer.alloc(4), Buffer.from([0]), bad])));
      const f = await raw.next();
      expect(parseOpMsg(f).command).toMatchObject({ ok: 0, code: 22, codeName: 'InvalidBSON' });
      expect((await raw.command(2, { ping: 1, $db: 'admin' })).reply).toEqual({ ok: 1 });
      expect((await raw.command(3, { ping: 1 })).reply).toMatchObject({ ok: 0, code: 73 });
      expect((await raw.command(4, { insert: 'x', $db: 'wire', documents: 'nope' })).reply).toMatchObject({
        ok: 0,
        code: 14,
      });
    } finally {
      raw.close();
    }
  });

  it.each([
    [
      'a length over the limit',
      (): Buffer => Buffer.from([0x00, 0x00, 0x00, 0x7f, 1, 0, 0, 0, 0, 0, 0, 0, 0xdd, 0x07, 0, 0]),
    ],
    ['a length under the header size', (): Buffer => Buffer.from([8, 0, 0, 0, 1, 0, 0, 0])],
    ['a negative length', (): Buffer => Buffer.from([0xff, 0xff, 0xff, 0xff, 1, 0, 0, 0])],
    ['an unknown opcode', (): Buffer => frame(4242, 1, Buffer.alloc(8))],
    ['a compressed message', (): Buffer => frame(2012, 1, Buffer.alloc(16))],
    [
      'a bad checksum',
      (): Buffer => {
        const m = opMsg(1, { ping: 1, $db: 'admin' }, { checksum: true });
        m[m.length - 1] ^= 1;
        return m;
      },
    ],
    [
      'an unknown section kind',
      (): Buffer => frame(OP_MSG, 1, Buffer.concat([Buffer.alloc(4), Buffer.from([9]), ser({ a: 1 })])),
    ],
    [
      'a section longer than the message',
      (): Buffer => {
        const body = ser({ ping: 1 });
        body.writeInt32LE(body.length + 100, 0);
        return frame(OP_MSG, 1, Buffer.concat([Buffer.alloc(4), Buffer.from([0]), body]));
      },
    ],
    ['required unknown flag bits', (): Buffer => opMsg(1, { ping: 1, $db: 'admin' }, { flags: 1 << 5 })],
  ])('closes the connection on %s and keeps serving others', async (_name, make) => {
    const raw = await Raw.open(server.port);
    raw.send(make());
    await raw.closed;
    expect(raw.frames).toEqual([]);
    await stillServing();
  });

  it('does not let a stalled, truncated message block other clients', async () => {
    const raw = await Raw.open(server.port);
    try {
      const m = opMsg(1, { ping: 1, $db: 'admin' });
      raw.send(m.subarray(0, m.length - 5));
      await stillServing();
      raw.socket.end();
      await raw.closed;
      await stillServing();
    } finally {
      raw.close();
    }
  });

  it('does not allocate for lengths it has not received', async () => {
    const before = process.memoryUsage().arrayBuffers;
    const raws = await Promise.all(Array.from({ length: 20 }, () => Raw.open(server.port)));
    try {
      for (const r of raws) {
        const h = Buffer.alloc(1024);
        h.writeInt32LE(40_000_000, 0);
        h.writeInt32LE(OP_MSG, 12);
        r.send(h);
      }
      await stillServing();
      // 20 x 40 MB would show up here if the server preallocated declared lengths.
      expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(100 * 1024 * 1024);
    } finally {
      raws.forEach((r) => r.close());
    }
  });

  it('survives a burst of random frames', async () => {
    let seed = 12345;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    for (let round = 0; round < 60; round++) {
      const raw = await Raw.open(server.port);
      const body = Buffer.alloc(rand(200));
      for (let i = 0; i < body.length; i++) body[i] = rand(256);
      const kind = rand(4);
      let msg: Buffer;
      if (kind === 0) msg = frame(OP_MSG, round, body);
      else if (kind === 1) msg = frame(OP_MSG, round, Buffer.concat([Buffer.alloc(4), Buffer.from([0]), body]));
      else if (kind === 2) msg = frame(OP_QUERY, round, body);
      else msg = body;
      raw.send(msg);
      raw.socket.end();
      await raw.closed;
    }
    await stillServing();
    expect(await client.db('wire').collection('alive').countDocuments()).toBeGreaterThan(0);
  });
});
