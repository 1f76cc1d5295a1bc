import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CursorRegistry } from './cursors';
import { openJournal, type Journal, type JournalTuning } from './journal';
import { checkDataFits, DataTooLargeError, loadGuard } from './load-check';
import { releaseLock } from './lock';
import { fullGc, MemoryBudget, type MemoryBudgetOptions, type MemoryStatus } from './memory-budget';
import { listen, type WireServer } from './server';
import { Store } from './store';
import { removeExpired } from './ttl';

export interface EmbeddedMongoOptions {
  /**
   * TCP port on `host`; 0 picks a free ephemeral port. Without `socketPath` the server listens on
   * TCP (port 0 when omitted); with it, only when a port is given.
   */
  port?: number;
  /** Interface to bind; only loopback makes sense. Defaults to 127.0.0.1. */
  host?: string;
  /**
   * Unix socket to listen on: `true` = `<dataDir>/mongod.sock` (a private temporary directory
   * without a dataDir, or when that path is too long for a socket), or an explicit path.
   */
  socketPath?: string | boolean;
  /** Directory for the journal and snapshot; undefined keeps everything in memory. */
  dataDir?: string;
  /** Memory budget in bytes (default: a share of the heap limit, see memory-budget.ts). */
  maxMemoryBytes?: number;
  /** Suppresses the server's own log lines. */
  quiet?: boolean;
  /** Where log lines go (default console.log with a prefix); `quiet` wins. */
  log?: (msg: string) => void;
}

export interface EmbeddedMongo {
  /** How to reach it: the Unix socket when there is one (percent-encoded path as host), else TCP. */
  uri: string;
  /** `mongodb://127.0.0.1:<port>` when listening on TCP. */
  tcpUri?: string;
  /** TCP port, 0 when not listening on TCP. */
  port: number;
  socketPath?: string;
  /** The memory budget: state, figures, and `setLimit` for an operator who raises it. */
  budget: MemoryBudget;
  memory(): MemoryStatus;
  stop(): Promise<void>;
}

/** Internal knobs, for tests and the benchmark. */
export interface Tuning extends JournalTuning {
  /** How often expired documents of TTL indexes are removed (mongod: 60 s). */
  ttlIntervalMs?: number;
  budget?: Omit<MemoryBudgetOptions, 'limitBytes' | 'log'>;
  /** Heap in use while loading (tests stand in a figure to trigger the load guard). */
  loadHeapUsed?: () => number;
}

export const SOCKET_NAME = 'mongod.sock';
// sun_path holds 108 bytes on Linux (104 on macOS), terminator included.
const MAX_SOCKET_PATH = 103;

/** `mongodb://%2Fpath%2Fto%2Fmongod.sock`: the driver takes a percent-encoded socket path as host. */
export function socketUri(socketPath: string): string {
  return `mongodb://${encodeURIComponent(socketPath)}`;
}

async function resolveSocket(opts: EmbeddedMongoOptions): Promise<{ path: string; tmpDir?: string } | undefined> {
  if (!opts.socketPath) return undefined;
  if (typeof opts.socketPath === 'string') return { path: path.resolve(opts.socketPath) };
  if (opts.dataDir) {
    const p = path.resolve(opts.dataDir, SOCKET_NAME);
    if (Buffer.byteLength(p) <= MAX_SOCKET_PATH) return { path: p };
  }
  const tmpDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'embedded-mongo-'));
  await fsp.chmod(tmpDir, 0o700);
  return { path: path.join(tmpDir, SOCKET_NAME), tmpDir };
}

/**
 * Starts a MongoDB-compatible server inside this process. With `dataDir` every acknowledged write
 * is on disk (journal + snapshot); without it the data lives in memory only.
 */
export async function launch(opts: EmbeddedMongoOptions = {}, tuning: Tuning = {}): Promise<EmbeddedMongo> {
  const host = opts.host ?? '127.0.0.1';
  const log = opts.quiet
    ? (): void => undefined
    : (opts.log ?? ((msg: string): void => console.log(`[embedded-mongo] ${msg}`)));
  const budget = new MemoryBudget({ limitBytes: opts.maxMemoryBytes, log, ...tuning.budget });
  const store = new Store();
  let journal: Journal | undefined;
  if (opts.dataDir) {
    await fsp.mkdir(opts.dataDir, { recursive: true, mode: 0o700 });
    // The directory holds the socket and every document: nobody else needs to read it.
    await fsp.chmod(opts.dataDir, 0o700);
    const bytes = await checkDataFits(opts.dataDir);
    // Recovery applies every record through store.apply, and stored documents through
    // store.applyPut (as bytes): watch the memory while it does.
    const apply = store.apply.bind(store);
    const applyPut = store.applyPut.bind(store);
    const guard = loadGuard(opts.dataDir, bytes, undefined, tuning.loadHeapUsed);
    store.apply = (entry) => {
      apply(entry);
      guard();
    };
    store.applyPut = (db, c, doc) => {
      applyPut(db, c, doc);
      guard();
    };
    try {
      journal = await openJournal(opts.dataDir, store, log, tuning);
    } catch (e) {
      if (e instanceof DataTooLargeError) await releaseLock(opts.dataDir);
      throw e;
    } finally {
      store.apply = apply;
      store.applyPut = applyPut;
    }
    store.journal = journal;
    // Loading leaves its working arrays (value ranks, orders) behind: one collection returns them
    // before the server takes its first request.
    fullGc();
  }
  const cursors = new CursorRegistry();
  const counters = { current: 0, total: 0 };
  const state = {
    store,
    cursors,
    startedAt: Date.now(),
    connections: () => counters.current,
    totalConnections: () => counters.total,
    budget,
  };
  const durable = journal
    ? (seq: number): Promise<void> => journal.waitDurable(seq)
    : (): Promise<void> => Promise.resolve();
  const servers: WireServer[] = [];
  let socket: { path: string; tmpDir?: string } | undefined;
  let tcp: WireServer | undefined;
  try {
    socket = await resolveSocket(opts);
    if (socket) {
      // A socket file left by a crash would make listen fail; the LOCK says the directory is ours.
      await fsp.rm(socket.path, { force: true });
      servers.push(await listen({ path: socket.path }, state, durable, log, counters));
      await fsp.chmod(socket.path, 0o600);
    }
    if (!socket || opts.port !== undefined) {
      tcp = await listen({ host, port: opts.port ?? 0 }, state, durable, log, counters);
      servers.push(tcp);
    }
  } catch (e) {
    for (const s of servers) await s.close();
    if (socket?.tmpDir) await fsp.rm(socket.tmpDir, { recursive: true, force: true });
    await journal?.close();
    throw e;
  }
  budget.refresh(true);
  budget.startMonitor();
  const sweeper = setInterval(() => cursors.evict(), 60_000);
  sweeper.unref();
  const ttl = setInterval(() => {
    try {
      removeExpired(store);
    } catch (e) {
      log(`TTL sweep failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }, tuning.ttlIntervalMs ?? 60_000);
  ttl.unref();
  const tcpUri = tcp ? `mongodb://${host}:${tcp.port}` : undefined;
  let stopping: Promise<void> | undefined;
  return {
    uri: socket ? socketUri(socket.path) : tcpUri!,
    tcpUri,
    port: tcp?.port ?? 0,
    socketPath: socket?.path,
    budget,
    memory: () => budget.status(),
    stop: () => {
      stopping ??= (async () => {
        clearInterval(sweeper);
        clearInterval(ttl);
        budget.stopMonitor();
        for (const s of servers) await s.close();
        cursors.clear();
        // The socket goes before the LOCK is released, so it never removes a successor's.
        if (socket) await fsp.rm(socket.tmpDir ?? socket.path, { recursive: true, force: true });
        await journal?.close();
      })();
      return stopping;
    },
  };
}
