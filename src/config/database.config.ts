import { registerAs } from '@nestjs/config';
import { join } from 'node:path';
import { dataDirFrom } from './app.config';
import { readBool, readInt, readPort, readString } from './env';

export const databaseConfig = registerAs('database', () => {
  const env = process.env;
  const uri = readString(env, 'MONGODB_URI');
  if (uri !== undefined && !/^mongodb(\+srv)?:\/\//.test(uri)) {
    throw new Error('Invalid configuration: MONGODB_URI must start with mongodb:// or mongodb+srv://');
  }
  return {
    /** Unset = start the embedded MongoDB-compatible server. */
    uri,
    /** Files of the embedded server. */
    embeddedDataDir: join(dataDirFrom(env), 'db'),
    /** Keep the embedded database in memory only (nothing written to disk). */
    embeddedInMemory: readBool(env, 'EMBEDDED_DB_IN_MEMORY', false),
    /** Port of the embedded server (0 = any free port). */
    embeddedPort: readPort(env, 'EMBEDDED_DB_PORT', 0),
    /** Connection attempts after the first one fails at boot (3 s apart). */
    connectRetries: readInt(env, 'MONGODB_CONNECT_RETRIES', 5, { min: 0, max: 1000 }),
    /** Database name used with the embedded server. */
    embeddedDbName: readString(env, 'EMBEDDED_DB_NAME', 'timmy'),
  };
});
export type DatabaseConfig = ReturnType<typeof databaseConfig>;
