import { randomBytes } from 'node:crypto';

/** A database URI unique to the caller on the suite's shared server (or on MONGODB_URI). */
export function uniqueTestDbUri(prefix = 't'): { uri: string; dbName: string } {
  const base = process.env.TEST_MONGODB_URI ?? process.env.MONGODB_URI;
  if (!base) throw new Error('No test database: run through Jest (global setup) or set MONGODB_URI');
  const dbName = `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
  const url = new URL(base);
  url.pathname = `/${dbName}`;
  return { uri: url.toString(), dbName };
}
