/**
 * The minimal honest peer: the same protocol work as the product and the same durable writes and
 * queries, with the plain `mongodb` driver against the same kind of database (the embedded server
 * started inside this process exactly as the product starts it, or MONGODB_URI). No framework.
 * Document shapes and indexes are the product's (the indexes are copied from the product's database).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { Collection, type Document, type Filter, type IndexDescription } from 'mongodb';
import type { LogRecord } from '@app/device-protocol';
import { openPeerDb, type PeerDb } from '../lib/db';
import { serveIpc } from '../lib/ipc-child';
import { ownMemory } from '../lib/memory';
import { verifyHs256 } from '../lib/jwt';
import { punchDoc } from './punch-doc';
import { TerminalHub } from './terminal-hub';

let hub: TerminalHub | undefined;
let pdb: PeerDb | undefined;
let secret = '';
const instanceId = randomBytes(6).toString('hex');
const connectionIds = new Map<string, string>();

const col = (name: string): Collection<Document> => pdb!.db.collection(name);

/** Employee lookup, then one unordered insert per frame; duplicates of stored punches are fine (stored once). */
async function storeLogs(sn: string, records: LogRecord[]): Promise<void> {
  const docs = records.map((r) => punchDoc(sn, r, hub!.timeZone));
  // The product stores the punch's employee (enroll_id = enrollid) with it: the same lookup here.
  const enrollIds = [...new Set(docs.map((d) => d.enrollid as string))];
  const employees = await col('employees')
    .find({ enroll_id: { $in: enrollIds } }, { projection: { _id: 1, enroll_id: 1, owner: 1 } })
    .toArray();
  const byEnrollId = new Map<string, Document | null>();
  for (const e of employees) byEnrollId.set(e.enroll_id as string, byEnrollId.has(e.enroll_id as string) ? null : e);
  for (const d of docs) {
    const e = byEnrollId.get(d.enrollid as string);
    if (e) {
      d.employee = e._id;
      d.owner = e.owner;
    }
  }
  try {
    await col('fingerprintlogs').insertMany(docs, { ordered: false });
  } catch (e) {
    const err = e as { code?: number; writeErrors?: Array<{ code?: number }> | { code?: number } };
    const writeErrors = Array.isArray(err.writeErrors) ? err.writeErrors : err.writeErrors ? [err.writeErrors] : [];
    if (!(err.code === 11000 || (writeErrors.length > 0 && writeErrors.every((w) => w.code === 11000)))) throw e;
  }
}

async function onReg(sn: string, reg: { cpusn?: string; devinfo: Record<string, unknown> }, remote: string) {
  const now = new Date();
  const connectionId = randomUUID();
  connectionIds.set(sn, connectionId);
  await col('devices').findOneAndUpdate(
    { sn },
    {
      $set: {
        devinfo: reg.devinfo,
        online: true,
        instanceId,
        connectionId,
        lastSeenAt: now,
        cpusn: reg.cpusn ?? null,
        firmware: reg.devinfo.firmware ?? null,
        model: reg.devinfo.modelname ?? null,
        connectedAt: now,
        remoteAddress: remote,
        updatedAt: now,
      },
      $setOnInsert: { createdAt: now, name: null, allowed: true },
    },
    { upsert: true, returnDocument: 'after' },
  );
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function authorized(req: IncomingMessage): boolean {
  const h = req.headers.authorization ?? '';
  const payload = h.startsWith('Bearer ') ? verifyHs256(h.slice(7), secret) : null;
  return payload !== null && payload.role === 'ADMIN';
}

function view(op: Document): Document {
  return { ...op, _id: String(op._id) };
}

/** add-user: operation document, claim, send, reply, completion, server copy of the user, answer. */
async function addUser(sn: string, body: Record<string, unknown>, res: ServerResponse): Promise<void> {
  const enrollid = Number(body.enrollid);
  const backupnum = Number(body.backupnum ?? 0);
  const name = typeof body.name === 'string' ? body.name : undefined;
  if (!Number.isInteger(enrollid) || enrollid <= 0 || ![0, 50].includes(backupnum) || !name) {
    return send(res, 400, { success: false, error: 'validation_failed' });
  }
  if (!hub!.isConnected(sn)) return send(res, 409, { success: false, error: 'device_offline_or_not_registered' });
  const ops = col('operations');
  const now = new Date();
  const payload = { enrollid, name, backupnum, aliasid: body.aliasid ?? null, admin: 0 };
  const { insertedId } = await ops.insertOne({
    sn,
    type: 'adduserinfo',
    payload,
    status: 'pending',
    attemptCount: 0,
    maxAttempts: 5,
    nextAttemptAt: now,
    dependsOn: [],
    depsPending: false,
    wireCmd: 'adduser',
    createdAt: now,
    updatedAt: now,
  });
  const claimed = await ops.findOneAndUpdate(
    { sn, status: 'pending', nextAttemptAt: { $lte: new Date() }, depsPending: false },
    {
      $set: {
        status: 'sent',
        sentAt: new Date(),
        leaseOwner: instanceId,
        leaseUntil: new Date(Date.now() + 30_000),
        updatedAt: new Date(),
      },
      $inc: { attemptCount: 1 },
    },
    { sort: { nextAttemptAt: 1, createdAt: 1, _id: 1 }, returnDocument: 'after' },
  );
  if (!claimed) return send(res, 500, { success: false, error: 'claim_failed' });
  let reply: Record<string, unknown>;
  try {
    reply = await hub!.command(sn, { cmd: 'adduser', enrollid, backupnum, admin: 0, name, flag: 10 }, 10_000);
  } catch {
    await ops.updateOne({ _id: insertedId, status: 'sent' }, { $set: { status: 'pending', updatedAt: new Date() } });
    return send(res, 504, { success: false, error: 'device_timeout', opId: String(insertedId) });
  }
  const ok = reply.result === true;
  const done = await ops.findOneAndUpdate(
    { _id: insertedId, status: 'sent' },
    {
      $set: {
        status: ok ? 'success' : 'failed',
        response: reply,
        completedAt: new Date(),
        updatedAt: new Date(),
        ...(ok ? {} : { lastError: `terminal answered result:false` }),
      },
      $unset: { leaseOwner: '', leaseUntil: '' },
    },
    { returnDocument: 'after' },
  );
  if (ok) {
    await col('deviceusers').updateOne(
      { sn, enrollid },
      { $set: { name, aliasid: payload.aliasid, admin: 0, updatedAt: new Date() }, $setOnInsert: { credentials: [] } },
      { upsert: true },
    );
  }
  send(res, 200, { success: true, opId: String(insertedId), status: done?.status, response: reply });
}

function dayStart(s: string | null, end: boolean): Date | undefined {
  if (!s || !/^\d{4}-\d{2}-\d{2}$/.test(s)) return undefined;
  return new Date(`${s}T${end ? '23:59:59.999' : '00:00:00.000'}Z`);
}

async function listOperations(url: URL, res: ServerResponse): Promise<void> {
  const q = url.searchParams;
  const page = Math.max(1, Number(q.get('page') ?? 1) || 1);
  const limit = Math.min(100, Math.max(1, Number(q.get('limit') ?? 20) || 20));
  const filter: Filter<Document> = {};
  for (const k of ['sn', 'type', 'status']) if (q.get(k)) filter[k] = q.get(k);
  const from = dayStart(q.get('from'), false);
  const to = dayStart(q.get('to'), true);
  if (from || to) filter.createdAt = { ...(from ? { $gte: from } : {}), ...(to ? { $lte: to } : {}) };
  const ops = col('operations');
  const [items, total] = await Promise.all([
    ops
      .find(filter)
      .sort({ createdAt: -1, _id: -1 })
      .skip((page - 1) * limit)
      .limit(limit)
      .toArray(),
    ops.countDocuments(filter),
  ]);
  send(res, 200, { success: true, total, page, items: items.map(view) });
}

async function stats(res: ServerResponse): Promise<void> {
  const ops = col('operations');
  const [total, byStatus, byType] = await Promise.all([
    ops.countDocuments({}),
    ops
      .aggregate([{ $match: {} }, { $group: { _id: '$status', count: { $sum: 1 } } }, { $sort: { count: -1, _id: 1 } }])
      .toArray(),
    ops
      .aggregate([{ $match: {} }, { $group: { _id: '$type', count: { $sum: 1 } } }, { $sort: { count: -1, _id: 1 } }])
      .toArray(),
  ]);
  send(res, 200, { success: true, total, byStatus, byType });
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const text = await readBody(req);
  if (!authorized(req)) return send(res, 401, { success: false, error: 'unauthorized' });
  const m = /^\/api\/device\/([^/]+)\/add-user$/.exec(url.pathname);
  if (req.method === 'POST' && m) {
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      return send(res, 400, { success: false, error: 'malformed_json' });
    }
    return addUser(decodeURIComponent(m[1]), body, res);
  }
  if (req.method === 'GET' && url.pathname === '/api/operations') return listOperations(url, res);
  if (req.method === 'GET' && url.pathname === '/api/stats') return stats(res);
  send(res, 404, { success: false, error: 'not_found' });
}

/** Keeps the online lease of held terminals fresh, as the product does. */
function startLeaseRefresh(intervalMs: number): void {
  const timer = setInterval(() => {
    const now = new Date();
    const entries = [...connectionIds.entries()].filter(([sn]) => hub!.isConnected(sn));
    if (entries.length === 0) return;
    void col('devices')
      .bulkWrite(
        entries.map(([sn, connectionId]) => ({
          updateOne: {
            filter: { sn },
            update: { $set: { lastSeenAt: now, online: true, connectionId, instanceId } },
          },
        })),
        { ordered: false },
      )
      .catch(() => undefined);
  }, intervalMs);
  timer.unref();
}

function post(url: string, body: string, headers: Record<string, string>): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) },
        timeout: 10_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * The outbox with the driver: per terminal, oldest undelivered batch first, claimed with a lease,
 * posted with an idempotency key, marked delivered only on a confirming answer.
 */
async function drain(p: Record<string, unknown>): Promise<unknown> {
  const logs = col('fingerprintlogs');
  const sinkUrl = String(p.sinkUrl);
  const batchSize = Number(p.batchSize ?? 100);
  const concurrency = Number(p.concurrency ?? 8);
  const deadline = Date.now() + Number(p.timeoutMs ?? 120_000);
  const sns = (await logs.distinct('device_sn', { forward_pending: true, device_type: 'terminal' })) as string[];
  let batches = 0;
  let failures = 0;
  const started = Date.now();
  let next = 0;
  const worker = async () => {
    while (next < sns.length && Date.now() < deadline) {
      const sn = sns[next++];
      for (;;) {
        if (Date.now() > deadline) return;
        const now = new Date();
        const head = await logs
          .find(
            { forward_pending: true, device_type: 'terminal', device_sn: sn, next_attempt_at: { $lte: now } },
            { projection: { _id: 1, enrollid: 1, local_time: 1, event: 1 } },
          )
          .sort({ time: 1, _id: 1 })
          .limit(batchSize)
          .toArray();
        if (head.length === 0) break;
        const token = randomUUID();
        const ids = head.map((d) => d._id);
        await logs.updateMany(
          { _id: { $in: ids }, forward_pending: true, lease_until: { $lte: now } },
          { $set: { claim_token: token, lease_until: new Date(Date.now() + 30_000), last_attempt_at: now } },
        );
        const claimed = await logs
          .find(
            { _id: { $in: ids }, claim_token: token },
            { projection: { _id: 1, enrollid: 1, local_time: 1, event: 1 } },
          )
          .sort({ time: 1, _id: 1 })
          .toArray();
        if (claimed.length === 0) continue;
        const body = JSON.stringify({
          sn,
          record: claimed.map((d) => ({ enrollid: Number(d.enrollid), time: d.local_time, event: d.event })),
        });
        let ok = false;
        let answer: unknown = null;
        try {
          const r = await post(sinkUrl, body, {
            'idempotency-key': `${sn}:${String(claimed[0]._id)}:${claimed.length}`,
          });
          answer = JSON.parse(r.text);
          ok = r.status >= 200 && r.status < 300 && (answer as { success?: boolean }).success === true;
        } catch {
          ok = false;
        }
        batches++;
        const claimedIds = claimed.map((d) => d._id);
        if (ok) {
          await logs.updateMany(
            { _id: { $in: claimedIds }, claim_token: token },
            {
              $set: {
                is_send: true,
                send_failed: false,
                forward_pending: false,
                forwardedAt: new Date(),
                forwardResponse: answer,
                next_attempt_at: null,
                claim_token: null,
                lease_until: new Date(0),
                last_attempt_error: null,
              },
              $inc: { forward_attempts: 1 },
            },
          );
        } else {
          failures++;
          await logs.updateMany(
            { _id: { $in: claimedIds }, claim_token: token },
            {
              $set: {
                is_send: true,
                send_failed: true,
                next_attempt_at: new Date(Date.now() + 2000),
                claim_token: null,
                lease_until: new Date(0),
                last_attempt_error: 'Remote server did not confirm receipt',
              },
              $inc: { forward_attempts: 1 },
            },
          );
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, sns.length) }, worker));
  return { ms: Date.now() - started, batches, failures, terminals: sns.length };
}

serveIpc({
  start: async (p) => {
    secret = String(p.jwtSecret);
    pdb = await openPeerDb('peer', typeof p.dataDir === 'string' ? p.dataDir : undefined);
    const indexes = (p.indexes ?? {}) as Record<string, IndexDescription[]>;
    for (const [name, specs] of Object.entries(indexes)) {
      if (specs.length > 0) await col(name).createIndexes(specs);
    }
    hub = new TerminalHub({
      onReg: (sn, reg, remote) => onReg(sn, reg, remote),
      storeLogs,
      onDisconnect: (sn) => {
        const connectionId = connectionIds.get(sn);
        connectionIds.delete(sn);
        void col('devices')
          .updateOne(
            { sn, connectionId, online: true },
            { $set: { online: false, disconnectedAt: new Date(), disconnectReason: 'closed' } },
          )
          .catch(() => undefined);
      },
    });
    await hub.listen(Number(p.wsPort), Number(p.pingIntervalMs ?? 0));
    if (p.leaseRefreshMs) startLeaseRefresh(Number(p.leaseRefreshMs));
    if (p.httpPort) {
      const server = createServer((req, res) => {
        handle(req, res).catch((e: unknown) => send(res, 500, { success: false, error: String(e) }));
      });
      server.keepAliveTimeout = 60_000;
      await new Promise<void>((r) => server.listen(Number(p.httpPort), '127.0.0.1', () => r()));
    }
    return { pid: process.pid, dbUri: pdb.uri };
  },
  drain,
  stats: async () => ({
    connected: hub?.connectedCount() ?? 0,
    recordsStored: hub?.recordsStored ?? 0,
    rss: process.memoryUsage().rss,
  }),
  /** V8 heap spaces, external memory (rss-per-terminal compares them with the product's). */
  memory: async () => ownMemory(),
  stop: async () => {
    await hub?.close();
    await pdb?.close();
    return {};
  },
});
