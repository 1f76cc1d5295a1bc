import mongoose, { type Connection } from 'mongoose';
import { type EmbeddedMongo, start } from '@app/embedded-mongo';

/**
 * For a repository spec: one embedded server for the file and, before each test, a connection to
 * a fresh database (`<dbPrefix>_<n>`), dropped after the test. Call inside `describe`; read `conn`
 * in hooks and tests.
 */
export function databasePerTest(dbPrefix: string): { readonly conn: Connection } {
  let server: EmbeddedMongo | undefined;
  let conn: Connection | undefined;
  let dbIndex = 0;

  beforeAll(async () => {
    server = await start({ port: 0, quiet: true });
  });

  afterAll(async () => {
    await server?.stop();
  });

  beforeEach(async () => {
    if (!server) throw new Error('embedded server not started');
    conn = await mongoose.createConnection(`${server.uri}/${dbPrefix}_${dbIndex++}`).asPromise();
  });

  afterEach(async () => {
    await conn?.dropDatabase();
    await conn?.close();
  });

  return {
    get conn(): Connection {
      if (!conn) throw new Error('no test database: read conn inside a test or hook');
      return conn;
    },
  };
}
