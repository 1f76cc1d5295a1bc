import { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { getConnectionToken } from '@nestjs/mongoose';
import type { Server } from 'node:http';
import type { Connection } from 'mongoose';
import request from 'supertest';
import { uniqueTestDbUri } from '@app/testing';
import { AppModule } from '../../src/app.module';
import { configureApp } from '../../src/app.setup';
import { TerminalGateway } from '../../src/devices';

export const TEST_JWT_SECRET = 'test-secret-0123456789-abcdefghij';
export const TEST_ADMIN = { email: 'admin@timmy.local', password: 'admin123' };

export interface TestApp {
  app: INestApplication;
  httpServer: Server;
  /** `ws://127.0.0.1:<port>` of the terminal gateway. */
  wsUrl: string;
  dbName: string;
  connection: Connection;
  env: Record<string, string>;
  adminToken(): Promise<string>;
  /** `keepDatabase`: leave the data for another app started with `env: { MONGODB_URI: t.env.MONGODB_URI }`. */
  close(opts?: { keepDatabase?: boolean }): Promise<void>;
}

/** Objects that expose the port they listen on (the terminal gateway). */
export interface ListeningPort {
  readonly port: number;
}
const gatewayLookups: Array<(app: INestApplication) => ListeningPort | undefined> = [];
export function registerGatewayLookup(lookup: (app: INestApplication) => ListeningPort | undefined): void {
  gatewayLookups.push(lookup);
}
registerGatewayLookup((app) => app.get(TerminalGateway));

/**
 * Boots the real AppModule (same pipes, filter, body limits) on ephemeral ports with a database of
 * its own. `env` overrides configuration for this app only.
 */
export async function createTestApp(opts: { env?: Record<string, string> } = {}): Promise<TestApp> {
  const { uri, dbName } = uniqueTestDbUri('e2e');
  const env: Record<string, string> = {
    NODE_ENV: 'test',
    PORT: '0',
    WS_PORT: '0',
    HOST: '127.0.0.1',
    MONGODB_URI: uri,
    MONGODB_CONNECT_RETRIES: '0',
    JWT_SECRET: TEST_JWT_SECRET,
    ADMIN_EMAIL: TEST_ADMIN.email,
    ADMIN_PASSWORD: TEST_ADMIN.password,
    DATA_DIR: `/tmp/timmy-test-${dbName}`,
    ...opts.env,
  };
  const saved = new Map<string, string | undefined>();
  for (const [key, value] of Object.entries(env)) {
    saved.set(key, process.env[key]);
    process.env[key] = value;
  }
  let app: INestApplication;
  try {
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    app = moduleRef.createNestApplication({ bodyParser: false, logger: ['error', 'warn'] });
    configureApp(app);
    try {
      await app.listen(0, '127.0.0.1');
    } catch (err) {
      // A boot that fails (on purpose in some tests) must not leave its connections open.
      await app.close().catch(() => undefined);
      throw err;
    }
  } finally {
    for (const [key, value] of saved) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
  const httpServer = app.getHttpServer() as Server;
  let wsPort = 0;
  for (const lookup of gatewayLookups) {
    const gateway = lookup(app);
    if (gateway) wsPort = gateway.port;
  }
  const connection = app.get<Connection>(getConnectionToken());
  let token: string | undefined;
  return {
    app,
    httpServer,
    wsUrl: `ws://127.0.0.1:${wsPort}`,
    dbName,
    connection,
    env,
    async adminToken() {
      if (token) return token;
      const res = await request(httpServer).post('/api/auth/login').send(TEST_ADMIN);
      if (res.status !== 200 && res.status !== 201) throw new Error(`admin login failed: ${res.status} ${res.text}`);
      token = (res.body as { token: string }).token;
      return token;
    },
    async close(closeOpts: { keepDatabase?: boolean } = {}) {
      if (!closeOpts.keepDatabase) await connection.dropDatabase().catch(() => undefined);
      await app.close();
    },
  };
}
