import { Logger } from '@nestjs/common';
import { start, type EmbeddedMongo } from '@app/embedded-mongo';

/**
 * The embedded MongoDB-compatible server, when MONGODB_URI is unset. It lives outside Nest's
 * container so that it stops after Mongoose has disconnected (see main.ts).
 */
let instance: EmbeddedMongo | undefined;
let starting: Promise<EmbeddedMongo> | undefined;

export async function startEmbeddedDatabase(opts: { port: number; dataDir?: string }): Promise<EmbeddedMongo> {
  if (instance) return instance;
  starting ??= start({ port: opts.port, dataDir: opts.dataDir, quiet: true }).then((db) => {
    instance = db;
    new Logger('Database').log(
      `Embedded database at ${db.uri} (${opts.dataDir ? `files in ${opts.dataDir}` : 'in memory'}); production uses MONGODB_URI`,
    );
    return db;
  });
  try {
    return await starting;
  } finally {
    starting = undefined;
  }
}

export async function stopEmbeddedDatabase(): Promise<void> {
  const db = instance;
  instance = undefined;
  if (db) await db.stop();
}
