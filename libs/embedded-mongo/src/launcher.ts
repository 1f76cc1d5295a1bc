import { CursorRegistry } from './cursors';
import { openJournal, type Journal, type JournalTuning } from './journal';
import { listen } from './server';
import { Store } from './store';
import { removeExpired } from './ttl';

export interface EmbeddedMongoOptions {
  /** TCP port; 0 (the default) picks a free ephemeral port. */
  port?: number;
  /** Interface to bind; only loopback makes sense. Defaults to 127.0.0.1. */
  host?: string;
  /** Directory for the journal and snapshot; undefined keeps everything in memory. */
  dataDir?: string;
  /** Suppresses the server's own log lines. */
  quiet?: boolean;
}

export interface EmbeddedMongo {
  /** `mongodb://127.0.0.1:<port>`, without a database name. */
  uri: string;
  port: number;
  stop(): Promise<void>;
}

/** Internal knobs, for tests and the benchmark. */
export interface Tuning extends JournalTuning {
  /** How often expired documents of TTL indexes are removed (mongod: 60 s). */
  ttlIntervalMs?: number;
}

/**
 * Starts a MongoDB-compatible server inside this process. With `dataDir` every acknowledged write
 * is on disk (journal + snapshot); without it the data lives in memory only.
 */
export async function launch(opts: EmbeddedMongoOptions = {}, tuning: Tuning = {}): Promise<EmbeddedMongo> {
  const host = opts.host ?? '127.0.0.1';
  const log = opts.quiet ? (): void => undefined : (msg: string): void => console.log(`[embedded-mongo] ${msg}`);
  const store = new Store();
  let journal: Journal | undefined;
  if (opts.dataDir) {
    journal = await openJournal(opts.dataDir, store, log, tuning);
    store.journal = journal;
  }
  const cursors = new CursorRegistry();
  const counters = { current: 0, total: 0 };
  const state = {
    store,
    cursors,
    startedAt: Date.now(),
    connections: () => counters.current,
    totalConnections: () => counters.total,
  };
  const durable = journal
    ? (seq: number): Promise<void> => journal.waitDurable(seq)
    : (): Promise<void> => Promise.resolve();
  let server;
  try {
    server = await listen(host, opts.port ?? 0, state, durable, log, counters);
  } catch (e) {
    await journal?.close();
    throw e;
  }
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
  const port = server.port;
  let stopping: Promise<void> | undefined;
  return {
    uri: `mongodb://${host}:${port}`,
    port,
    stop: () => {
      stopping ??= (async () => {
        clearInterval(sweeper);
        clearInterval(ttl);
        await server.close();
        cursors.clear();
        await journal?.close();
      })();
      return stopping;
    },
  };
}
