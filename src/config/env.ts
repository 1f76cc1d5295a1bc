import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** A bad configuration value: the app refuses to start and names the variable. */
export class ConfigValidationError extends Error {
  constructor(
    readonly variable: string,
    detail: string,
  ) {
    super(`Invalid configuration: ${variable} ${detail}`);
    this.name = 'ConfigValidationError';
  }
}

type Env = Record<string, string | undefined>;

function raw(env: Env, name: string): string | undefined {
  const value = env[name];
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}

export function readString(env: Env, name: string, fallback: string): string;
export function readString(env: Env, name: string, fallback?: undefined): string | undefined;
export function readString(env: Env, name: string, fallback?: string): string | undefined {
  return raw(env, name) ?? fallback;
}

export function readInt(env: Env, name: string, fallback: number, range: { min?: number; max?: number } = {}): number {
  const value = raw(env, name);
  if (value === undefined) return fallback;
  if (!/^-?\d+$/.test(value)) throw new ConfigValidationError(name, `must be an integer, got "${value}"`);
  const parsed = Number(value);
  if (range.min !== undefined && parsed < range.min) throw new ConfigValidationError(name, `must be >= ${range.min}`);
  if (range.max !== undefined && parsed > range.max) throw new ConfigValidationError(name, `must be <= ${range.max}`);
  return parsed;
}

export function readPort(env: Env, name: string, fallback: number): number {
  return readInt(env, name, fallback, { min: 0, max: 65535 });
}

export function readBool(env: Env, name: string, fallback: boolean): boolean {
  const value = raw(env, name);
  if (value === undefined) return fallback;
  const lower = value.toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(lower)) return true;
  if (['false', '0', 'no', 'off'].includes(lower)) return false;
  throw new ConfigValidationError(name, `must be true or false, got "${value}"`);
}

export function readUrl(env: Env, name: string): string | undefined {
  const value = raw(env, name);
  if (value === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigValidationError(name, `must be an absolute URL, got "${value}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigValidationError(name, 'must be an http(s) URL');
  }
  return value;
}

/** A list separated by commas; empty entries are dropped. */
export function readList(env: Env, name: string, fallback: string[] = []): string[] {
  const value = raw(env, name);
  if (value === undefined) return fallback;
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Durations: a plain number is milliseconds; `500ms`, `10s`, `15m`, `12h`, `30d` are accepted. */
export function parseDurationMs(value: string): number | undefined {
  const match = /^(\d+)(ms|s|m|h|d)?$/.exec(value);
  if (!match) return undefined;
  return Number(match[1]) * UNIT_MS[match[2] ?? 'ms'];
}

export function readDurationMs(
  env: Env,
  name: string,
  fallbackMs: number,
  range: { min?: number; max?: number } = {},
): number {
  const value = raw(env, name);
  if (value === undefined) return fallbackMs;
  const ms = parseDurationMs(value);
  if (ms === undefined) throw new ConfigValidationError(name, `must be a duration like 500ms, 10s, 15m, 12h or 30d`);
  if (range.min !== undefined && ms < range.min)
    throw new ConfigValidationError(name, `must be at least ${range.min} ms`);
  if (range.max !== undefined && ms > range.max)
    throw new ConfigValidationError(name, `must be at most ${range.max} ms`);
  return ms;
}

export function readTimeZone(env: Env, name: string, fallback: string): string {
  const value = raw(env, name) ?? fallback;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: value });
  } catch {
    throw new ConfigValidationError(name, `must be an IANA time zone such as Asia/Baghdad, got "${value}"`);
  }
  return value;
}

export function readEnum<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const value = raw(env, name);
  if (value === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(value)) {
    throw new ConfigValidationError(name, `must be one of ${allowed.join(', ')}, got "${value}"`);
  }
  return value as T;
}

/**
 * Reads a secret kept in a file, creating it with random bytes when absent, so that generated
 * secrets survive restarts.
 */
export function readOrCreateSecretFile(path: string, bytes = 48): string {
  if (existsSync(path)) {
    const existing = readFileSync(path, 'utf8').trim();
    if (existing.length > 0) return existing;
  }
  mkdirSync(dirname(path), { recursive: true });
  const secret = randomBytes(bytes).toString('base64url');
  writeFileSync(path, secret + '\n', { mode: 0o600 });
  return secret;
}
