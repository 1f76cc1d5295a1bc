import { registerAs } from '@nestjs/config';
import { resolve } from 'node:path';
import { readEnum, readList, readPort, readString, readDurationMs, readBool, readInt } from './env';

export const NODE_ENVS = ['development', 'production', 'test'] as const;

/** Where the embedded database, the generated JWT secret and the instance id live. */
export function dataDirFrom(env: Record<string, string | undefined>): string {
  return resolve(readString(env, 'DATA_DIR', './data'));
}

export const appConfig = registerAs('app', () => {
  const env = process.env;
  return {
    nodeEnv: readEnum(env, 'NODE_ENV', NODE_ENVS, 'development'),
    port: readPort(env, 'PORT', 9090),
    host: readString(env, 'HOST', '0.0.0.0'),
    dataDir: dataDirFrom(env),
    /** Largest JSON body accepted (app punches carry a photo as a data URL). */
    bodyLimit: readString(env, 'HTTP_BODY_LIMIT', '8mb'),
    /** Deepest nesting of objects/arrays a JSON body may have (checked before parsing). */
    jsonMaxDepth: readInt(env, 'HTTP_JSON_MAX_DEPTH', 32, { min: 4, max: 256 }),
    /** Comma-separated origins; `*` allows any; empty disables CORS. */
    corsOrigins: readList(env, 'CORS_ORIGINS'),
    swaggerEnabled: readBool(env, 'SWAGGER_ENABLED', true),
    /** `servers` of the OpenAPI document: the base URLs clients reach this API at (`/` = the same origin). */
    swaggerServers: readList(env, 'SWAGGER_SERVERS', ['/']),
    shutdownTimeoutMs: readDurationMs(env, 'SHUTDOWN_TIMEOUT', 10_000, { min: 1000 }),
  };
});
export type AppConfig = ReturnType<typeof appConfig>;
