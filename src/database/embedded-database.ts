import { Logger } from '@nestjs/common';
import { start, type EmbeddedMongo, type MemoryStatus } from '@app/embedded-mongo';

/**
 * The embedded MongoDB-compatible server, when MONGODB_URI is unset. It lives outside Nest's
 * container so that it stops after Mongoose has disconnected (see main.ts).
 */
let instance: EmbeddedMongo | undefined;
let starting: Promise<EmbeddedMongo> | undefined;

export interface EmbeddedDatabaseOptions {
  dataDir?: string;
  /** Loopback TCP port for tools; undefined = Unix socket only. */
  tcpPort?: number;
  maxMemoryBytes?: number;
}

export async function startEmbeddedDatabase(opts: EmbeddedDatabaseOptions): Promise<EmbeddedMongo> {
  if (instance) return instance;
  const logger = new Logger('Database');
  starting ??= start({
    socketPath: true,
    port: opts.tcpPort,
    dataDir: opts.dataDir,
    maxMemoryBytes: opts.maxMemoryBytes,
    log: (msg) => logger.warn(msg),
  }).then((db) => {
    instance = db;
    const where = opts.dataDir ? `files in ${opts.dataDir}` : 'in memory';
    const budget = `memory budget ${Math.round(db.budget.limitBytes / 1048576)} MB`;
    logger.log(`Embedded database (${where}, ${budget}) on a private socket; production uses MONGODB_URI`);
    if (db.tcpUri) {
      logger.warn(`Embedded database also on ${db.tcpUri} (EMBEDDED_DB_PORT): any local user can read and write it`);
    }
    return db;
  });
  try {
    return await starting;
  } finally {
    starting = undefined;
  }
}

export function embeddedDatabase(): EmbeddedMongo | undefined {
  return instance;
}

/**
 * The embedded database's memory budget (undefined with MONGODB_URI): `degraded` from 80%, writes
 * refused from 95%. For the health check and the metrics.
 */
export function embeddedDatabaseMemory(): MemoryStatus | undefined {
  return instance?.memory();
}

export async function stopEmbeddedDatabase(): Promise<void> {
  const db = instance;
  instance = undefined;
  if (db) await db.stop();
}
