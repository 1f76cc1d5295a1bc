// Jest global setup (e2e): one in-memory embedded database shared by every worker; each test app
// uses a database of its own on it. With MONGODB_URI set, the suite runs against that server instead.
import { start } from '../../embedded-mongo/src';

declare global {
  var __TIMMY_TEST_DB__: { stop(): Promise<void> } | undefined;
}

export default async function globalSetup(): Promise<void> {
  if (process.env.MONGODB_URI) {
    process.env.TEST_MONGODB_URI = process.env.MONGODB_URI;
    return;
  }
  const db = await start({ port: 0, quiet: true });
  globalThis.__TIMMY_TEST_DB__ = db;
  process.env.TEST_MONGODB_URI = db.uri;
}
