import { registerAs } from '@nestjs/config';
import { join } from 'node:path';
import { parseSize } from '@app/embedded-mongo';
import { dataDirFrom } from './app.config';
import { ConfigValidationError, readBool, readInt, readPort, readString } from './env';

type Env = Record<string, string | undefined>;

/** A memory size (`536870912`, `512MB`, `2GB`); undefined when unset. */
function readSize(env: Env, name: string, min: number): number | undefined {
  const value = readString(env, name);
  if (value === undefined) return undefined;
  const bytes = parseSize(value);
  if (bytes === undefined) throw new ConfigValidationError(name, `must be a size like 512MB or 2GB, got "${value}"`);
  if (bytes < min) throw new ConfigValidationError(name, `must be at least ${min / 1048576} MB`);
  return bytes;
}

/** A share of the machine's memory, as a fraction between 0.1 and 0.9. */
export function readShare(env: Env, name: string, fallback: number): number {
  const value = readString(env, name);
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d*\.?\d+$/.test(value) || n < 0.1 || n > 0.9) {
    throw new ConfigValidationError(name, `must be a fraction between 0.1 and 0.9, got "${value}"`);
  }
  return n;
}

export const databaseConfig = registerAs('database', () => {
  const env = process.env;
  const uri = readString(env, 'MONGODB_URI');
  if (uri !== undefined && !/^mongodb(\+srv)?:\/\//.test(uri)) {
    throw new Error('Invalid configuration: MONGODB_URI must start with mongodb:// or mongodb+srv://');
  }
  const tcpPort = readString(env, 'EMBEDDED_DB_PORT');
  return {
    /** Unset = start the embedded MongoDB-compatible server. */
    uri,
    /** Files of the embedded server. */
    embeddedDataDir: join(dataDirFrom(env), 'db'),
    /** Keep the embedded database in memory only (nothing written to disk). */
    embeddedInMemory: readBool(env, 'EMBEDDED_DB_IN_MEMORY', false),
    /**
     * Loopback TCP port of the embedded server for tools (0 = any free port); unset = none: the app
     * reaches it through a Unix socket in the data directory.
     */
    embeddedPort: tcpPort === undefined ? undefined : readPort(env, 'EMBEDDED_DB_PORT', 0),
    /** Memory budget of the embedded server in bytes; unset = 75% of the heap limit. */
    embeddedMaxMemory: readSize(env, 'EMBEDDED_DB_MAX_MEMORY', 16 * 1048576),
    /** Share of the machine's memory `npm start` / `npm run db` give the Node heap (read by scripts/launch.js). */
    heapMemoryShare: readShare(env, 'HEAP_MEMORY_SHARE', 0.5),
    /** How far the heap may grow past its live size before a full collection, in % (read by scripts/launch.js); 0 = V8's own. */
    heapGrowthPercent: readInt(env, 'HEAP_GROWTH_PERCENT', 100, { min: 0, max: 300 }),
    /** Native memory arenas (glibc MALLOC_ARENA_MAX, set by scripts/launch.js for the process it starts). */
    mallocArenaMax: readInt(env, 'MALLOC_ARENA_MAX', 2, { min: 1, max: 64 }),
    /** Connection attempts after the first one fails at boot (3 s apart). */
    connectRetries: readInt(env, 'MONGODB_CONNECT_RETRIES', 5, { min: 0, max: 1000 }),
    /** Database name used with the embedded server. */
    embeddedDbName: readString(env, 'EMBEDDED_DB_NAME', 'timmy'),
    /** Delivered punches older than this many days are deleted; 0 = keep everything. */
    punchRetentionDays: readInt(env, 'PUNCH_RETENTION_DAYS', 0, { min: 0, max: 36500 }),
  };
});
export type DatabaseConfig = ReturnType<typeof databaseConfig>;
