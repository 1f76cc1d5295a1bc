import { registerAs } from '@nestjs/config';
import { resolve } from 'node:path';
import {
  ConfigValidationError,
  readEnum,
  readList,
  readPort,
  readString,
  readDurationMs,
  readBool,
  readInt,
} from './env';
import { readTrustProxy } from './trust-proxy';

export const NODE_ENVS = ['development', 'production', 'test'] as const;

/** Where the embedded database, the generated JWT secret and the instance id live. */
export function dataDirFrom(env: Record<string, string | undefined>): string {
  return resolve(readString(env, 'DATA_DIR', './data'));
}

/** Page sizes of the listings: the contract's defaults (20; 10 for the employee's own punches) and cap (100). */
export function pageSizesFrom(env: Record<string, string | undefined>): PageSizes {
  const max = readInt(env, 'PAGE_SIZE_MAX', 100, { min: 1, max: 10_000 });
  const sizes = {
    default: readInt(env, 'PAGE_SIZE_DEFAULT', 20, { min: 1, max: 10_000 }),
    employeeLogs: readInt(env, 'PAGE_SIZE_EMPLOYEE_LOGS', 10, { min: 1, max: 10_000 }),
    max,
  };
  for (const [name, value] of [
    ['PAGE_SIZE_DEFAULT', sizes.default],
    ['PAGE_SIZE_EMPLOYEE_LOGS', sizes.employeeLogs],
  ] as const) {
    if (value > max) throw new ConfigValidationError(name, `must not exceed PAGE_SIZE_MAX (${max}), got ${value}`);
  }
  return sizes;
}

export interface PageSizes {
  /** Rows a listing returns when the request names no limit. */
  default: number;
  /** The same for GET /api/fingerprints/my-logs. */
  employeeLogs: number;
  /** Largest limit honoured; larger limits are treated as this one. */
  max: number;
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
    /** Proxies whose X-Forwarded-For the HTTP API and the terminal gateway believe; empty = none. */
    trustProxy: readTrustProxy(readList(env, 'TRUST_PROXY')),
    pageSizes: pageSizesFrom(env),
  };
});
export type AppConfig = ReturnType<typeof appConfig>;
