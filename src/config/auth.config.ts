import { Logger } from '@nestjs/common';
import { registerAs } from '@nestjs/config';
import { join } from 'node:path';
import { dataDirFrom } from './app.config';
import { ConfigValidationError, readDurationMs, readInt, readOrCreateSecretFile, readString } from './env';

export const DEFAULT_ADMIN_PASSWORD = 'admin123';

function jwtSecret(env: Record<string, string | undefined>): string {
  const given = readString(env, 'JWT_SECRET');
  if (given !== undefined) {
    if (given.length < 16) throw new ConfigValidationError('JWT_SECRET', 'must be at least 16 characters');
    return given;
  }
  if (env.NODE_ENV === 'production') {
    throw new ConfigValidationError('JWT_SECRET', 'is required when NODE_ENV=production');
  }
  const file = join(dataDirFrom(env), 'jwt-secret');
  new Logger('Config').warn(`JWT_SECRET is not set: using a generated secret kept in ${file}`);
  return readOrCreateSecretFile(file);
}

export const authConfig = registerAs('auth', () => {
  const env = process.env;
  const slowdownBaseMs = readDurationMs(env, 'LOGIN_SLOWDOWN_BASE', 1000, { min: 1 });
  const slowdownMaxMs = readDurationMs(env, 'LOGIN_SLOWDOWN_MAX', 8000, { min: 1, max: 60_000 });
  if (slowdownMaxMs < slowdownBaseMs) {
    throw new ConfigValidationError(
      'LOGIN_SLOWDOWN_MAX',
      `must be at least LOGIN_SLOWDOWN_BASE (${slowdownBaseMs} ms)`,
    );
  }
  return {
    jwtSecret: jwtSecret(env),
    adminTokenTtlMs: readDurationMs(env, 'JWT_ADMIN_EXPIRES_IN', 12 * 3_600_000, { min: 60_000 }),
    employeeTokenTtlMs: readDurationMs(env, 'JWT_EMPLOYEE_EXPIRES_IN', 30 * 86_400_000, { min: 60_000 }),
    adminEmail: readString(env, 'ADMIN_EMAIL', 'admin@timmy.local').toLowerCase(),
    adminPassword: readString(env, 'ADMIN_PASSWORD', DEFAULT_ADMIN_PASSWORD),
    adminName: readString(env, 'ADMIN_NAME', 'Admin'),
    loginMaxFailuresPerUser: readInt(env, 'LOGIN_MAX_FAILURES_PER_USER', 10, { min: 1 }),
    loginUserWindowMs: readDurationMs(env, 'LOGIN_USER_WINDOW', 15 * 60_000, { min: 1000 }),
    loginMaxFailuresPerIp: readInt(env, 'LOGIN_MAX_FAILURES_PER_IP', 30, { min: 1 }),
    loginIpWindowMs: readDurationMs(env, 'LOGIN_IP_WINDOW', 60_000, { min: 1000 }),
    loginSlowdownAfter: readInt(env, 'LOGIN_SLOWDOWN_AFTER', 10, { min: 1 }),
    loginSlowdownBaseMs: slowdownBaseMs,
    loginSlowdownMaxMs: slowdownMaxMs,
    tokenCheckCacheMs: readDurationMs(env, 'TOKEN_CHECK_CACHE', 2000, { min: 0, max: 10_000 }),
    production: env.NODE_ENV === 'production',
  };
});
export type AuthConfig = ReturnType<typeof authConfig>;
