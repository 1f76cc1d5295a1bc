import { connectDriver, externalMongoUri, uniqueDbName, withDbName } from './db';
import { httpJson, pollUntil } from './http';
import { BENCH_ADMIN, BENCH_JWT_SECRET, benchAdminToken } from './jwt';
import { PRODUCT_LAUNCHER, PRODUCT_MAIN, tempDir } from './paths';
import { freePort } from './ports';
import { Proc, adoptPid, childPid, killPid, startProc } from './procs';
import type { Db, MongoClient } from 'mongodb';
import { join } from 'node:path';
import { start } from '@app/embedded-mongo';

export interface ProductServer {
  /** The launcher (scripts/launch.js, as `npm start` runs it); its log is the server's. */
  proc: Proc;
  /** The server process itself (the launcher's child): what is measured. */
  pid: number;
  httpUrl: string;
  wsUrl: string;
  /** Connection string of the server's database (with the database name). */
  dbUri: string;
  dataDir: string;
  /** Admin bearer token (logged in through the API). */
  token: string;
  driver(): Promise<MongoClient>;
  stop(): Promise<void>;
}

const PRODUCT_DB_NAME = 'timmy';

/** Where a product server keeps its data, decided before it starts (so it can be seeded first). */
export interface ProductDbPlan {
  dataDir: string;
  /** Set when running on MongoDB (MONGODB_URI); the embedded server lives under dataDir/db. */
  dbUri?: string;
}

export function planProductDb(name: string): ProductDbPlan {
  const external = externalMongoUri();
  return { dataDir: tempDir(`${name}-data`), dbUri: external ? withDbName(external, uniqueDbName(name)) : undefined };
}

/** Writes into a product's database before the product starts (the embedded server is opened on its files). */
export async function seedProductDb(plan: ProductDbPlan, fill: (db: Db) => Promise<void>): Promise<void> {
  if (plan.dbUri) {
    const client = await connectDriver(plan.dbUri);
    try {
      await fill(client.db());
    } finally {
      await client.close();
    }
    return;
  }
  const embedded = await start({ port: 0, dataDir: join(plan.dataDir, 'db'), quiet: true });
  const client = await connectDriver(`${embedded.uri}/${PRODUCT_DB_NAME}`);
  try {
    await fill(client.db());
  } finally {
    await client.close();
    await embedded.stop();
  }
}

export interface ProductOptions {
  name: string;
  /** Embedded database with files under DATA_DIR (fsync measured) rather than in memory. */
  durable: boolean;
  env?: Record<string, string>;
  /** Reuse the data of an earlier server (restart). */
  reuse?: ProductDbPlan;
  startTimeoutMs?: number;
  execArgv?: string[];
}

/** Starts `node dist/src/main.js` with its own ports, data and database, and waits until it is healthy. */
export async function startProduct(opts: ProductOptions): Promise<ProductServer> {
  const port = await freePort();
  const wsPort = await freePort();
  const dataDir = opts.reuse?.dataDir ?? tempDir(`${opts.name}-data`);
  const external = externalMongoUri();
  let dbUri: string;
  const env: Record<string, string> = {
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: String(port),
    WS_PORT: String(wsPort),
    DATA_DIR: dataDir,
    JWT_SECRET: BENCH_JWT_SECRET,
    ADMIN_EMAIL: BENCH_ADMIN.email,
    ADMIN_PASSWORD: BENCH_ADMIN.password,
    SWAGGER_ENABLED: 'false',
    // Stops between runs need no balancer to notice them.
    SHUTDOWN_DRAIN_DELAY: '0',
  };
  if (external) {
    dbUri = opts.reuse?.dbUri ?? withDbName(external, uniqueDbName(opts.name));
    env.MONGODB_URI = dbUri;
  } else {
    const dbPort = await freePort();
    env.EMBEDDED_DB_PORT = String(dbPort);
    env.EMBEDDED_DB_NAME = PRODUCT_DB_NAME;
    env.EMBEDDED_DB_IN_MEMORY = opts.durable ? 'false' : 'true';
    dbUri = `mongodb://127.0.0.1:${dbPort}/${PRODUCT_DB_NAME}`;
  }
  // BENCH_CPU_PROF=<dir>: the product writes a V8 CPU profile there when it stops (for `--cpu-prof` analysis).
  const profDir = process.env.BENCH_CPU_PROF;
  const nodeFlags = [...(opts.execArgv ?? []), ...(profDir ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : [])];
  // Started exactly as `npm start` starts it: the launcher gives the server its node settings
  // (heap size and growth, native memory arenas) and passes these flags on.
  const proc = startProc(`product-${opts.name}`, PRODUCT_LAUNCHER, {
    env: { ...env, ...opts.env },
    args: [...nodeFlags, PRODUCT_MAIN],
  });
  const httpUrl = `http://127.0.0.1:${port}`;
  let pid = -1;
  try {
    pid = await childPid(proc.pid);
    adoptPid(pid);
    await Promise.race([
      pollUntil(
        'product /api/health',
        async () => (await httpJson('GET', `${httpUrl}/api/health`, { timeoutMs: 2000 })).status === 200,
        opts.startTimeoutMs ?? 90_000,
        250,
      ),
      proc.exited.then((code) => {
        throw new Error(`product server exited with code ${code} while starting:\n${proc.logTail(30)}`);
      }),
    ]);
  } catch (e) {
    await proc.stop();
    if (pid > 0) killPid(pid);
    throw e;
  }
  const token = await adminToken(httpUrl);
  let client: MongoClient | undefined;
  return {
    proc,
    pid,
    httpUrl,
    wsUrl: `ws://127.0.0.1:${wsPort}/pub/chat`,
    dbUri,
    dataDir,
    token,
    driver: async () => (client ??= await connectDriver(dbUri)),
    stop: async () => {
      await client?.close().catch(() => undefined);
      client = undefined;
      await proc.stop(15_000);
      // The launcher was killed after its grace time: the server it started goes too.
      killPid(pid);
    },
  };
}

/** Logs in as the admin the server seeded from ADMIN_EMAIL/ADMIN_PASSWORD; signs one if login is not there. */
async function adminToken(httpUrl: string): Promise<string> {
  const res = await httpJson('POST', `${httpUrl}/api/auth/login`, {
    body: { email: BENCH_ADMIN.email, password: BENCH_ADMIN.password },
  });
  if (res.status >= 200 && res.status < 300 && typeof res.json?.token === 'string') return res.json.token as string;
  return benchAdminToken();
}

/** Drops the product's database after a run on MongoDB (the embedded one lives in a temp dir). */
export async function dropProductDb(server: { dbUri: string }): Promise<void> {
  if (!externalMongoUri()) return;
  const client = await connectDriver(server.dbUri);
  await client.db().dropDatabase();
  await client.close();
}
