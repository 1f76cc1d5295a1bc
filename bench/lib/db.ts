import { randomBytes } from 'node:crypto';
import { Db, MongoClient } from 'mongodb';
import { start } from '@app/embedded-mongo';

/** MongoDB when MONGODB_URI is set (every system gets its own database there), else the embedded server. */
export function externalMongoUri(): string | undefined {
  const uri = process.env.MONGODB_URI;
  return uri && uri.trim() !== '' ? uri.trim() : undefined;
}

export function uniqueDbName(prefix: string): string {
  return `bench_${prefix.replace(/[^a-z0-9]/gi, '_')}_${randomBytes(3).toString('hex')}`;
}

/** Puts a database name into a connection string (keeping its options). */
export function withDbName(uri: string, db: string): string {
  const u = new URL(uri);
  u.pathname = `/${db}`;
  return u.toString();
}

export async function connectDriver(uri: string): Promise<MongoClient> {
  const client = new MongoClient(uri, {
    directConnection: uri.includes('127.0.0.1') || uri.includes('localhost') ? true : undefined,
    serverSelectionTimeoutMS: 10_000,
  });
  await client.connect();
  return client;
}

export interface PeerDb {
  db: Db;
  client: MongoClient;
  uri: string;
  close(): Promise<void>;
}

/**
 * The database of a peer program: the same kind as the product's (embedded, started inside this
 * process exactly as the product starts it, with files when durable; or MongoDB).
 */
export async function openPeerDb(label: string, dataDir: string | undefined): Promise<PeerDb> {
  const external = externalMongoUri();
  if (external) {
    const uri = withDbName(external, uniqueDbName(label));
    const client = await connectDriver(uri);
    const db = client.db();
    return {
      db,
      client,
      uri,
      close: async () => {
        await db.dropDatabase().catch(() => undefined);
        await client.close();
      },
    };
  }
  const embedded = await start({ port: 0, dataDir, quiet: true });
  const uri = `${embedded.uri}/peer`;
  const client = await connectDriver(uri);
  return {
    db: client.db(),
    client,
    uri,
    close: async () => {
      await client.close();
      await embedded.stop();
    },
  };
}
