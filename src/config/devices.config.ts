import { registerAs } from '@nestjs/config';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { dataDirFrom } from './app.config';
import {
  ConfigValidationError,
  readBool,
  readDurationMs,
  readEnum,
  readInt,
  readList,
  readPort,
  readString,
  readTimeZone,
} from './env';

type Env = Record<string, string | undefined>;

const SIZE_UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 * 1024 };

/** Byte sizes: a plain number is bytes; `512kb`, `8mb` are accepted. */
function readBytes(env: Env, name: string, fallback: number, range: { min?: number; max?: number } = {}): number {
  const value = env[name]?.trim();
  if (!value) return fallback;
  const match = /^(\d+)\s*(b|kb|mb)?$/i.exec(value);
  if (!match) throw new ConfigValidationError(name, `must be a size like 65536, 512kb or 8mb, got "${value}"`);
  const bytes = Number(match[1]) * SIZE_UNITS[(match[2] ?? 'b').toLowerCase()];
  if (range.min !== undefined && bytes < range.min)
    throw new ConfigValidationError(name, `must be at least ${range.min} bytes`);
  if (range.max !== undefined && bytes > range.max)
    throw new ConfigValidationError(name, `must be at most ${range.max} bytes`);
  return bytes;
}

const INSTANCE_ID_RE = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * The id this instance writes into the documents of the terminals it holds. Kept in a file under
 * DATA_DIR so that after a crash the restarted instance recognises the terminals it held.
 */
function instanceId(env: Env): string {
  const given = readString(env, 'INSTANCE_ID');
  if (given !== undefined) {
    if (!INSTANCE_ID_RE.test(given)) {
      throw new ConfigValidationError('INSTANCE_ID', 'must be 1-64 letters, digits, ".", "_" or "-"');
    }
    return given;
  }
  const file = join(dataDirFrom(env), 'instance-id');
  if (existsSync(file)) {
    const existing = readFileSync(file, 'utf8').trim();
    if (INSTANCE_ID_RE.test(existing)) return existing;
  }
  const host =
    hostname()
      .replace(/[^A-Za-z0-9._-]/g, '')
      .slice(0, 40) || 'instance';
  const id = `${host}-${randomBytes(4).toString('hex')}`;
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, id + '\n');
  return id;
}

export const devicesConfig = registerAs('devices', () => {
  const env = process.env;
  const pingIntervalMs = readDurationMs(env, 'WS_PING_INTERVAL', 10_000, { min: 50 });
  const livenessTimeoutMs = readDurationMs(env, 'WS_LIVENESS_TIMEOUT', 30_000, { min: 100 });
  if (livenessTimeoutMs < pingIntervalMs) {
    throw new ConfigValidationError('WS_LIVENESS_TIMEOUT', `must be at least WS_PING_INTERVAL (${pingIntervalMs} ms)`);
  }
  const lastSeenWriteIntervalMs = readDurationMs(env, 'DEVICE_LAST_SEEN_WRITE_INTERVAL', 15_000, { min: 10 });
  const onlineLeaseMs = readDurationMs(env, 'DEVICE_ONLINE_LEASE', 90_000, { min: 100 });
  if (onlineLeaseMs <= lastSeenWriteIntervalMs + pingIntervalMs) {
    throw new ConfigValidationError(
      'DEVICE_ONLINE_LEASE',
      `must be longer than DEVICE_LAST_SEEN_WRITE_INTERVAL + WS_PING_INTERVAL (${lastSeenWriteIntervalMs + pingIntervalMs} ms)`,
    );
  }
  const cmdRatePerSecond = readInt(env, 'DEVICE_CMD_RATE_LIMIT', 200, { min: 0 });
  const cmdRateWindowMs = readDurationMs(env, 'DEVICE_CMD_RATE_WINDOW', 10_000, { min: 100 });
  const windowAllowance = Math.max(1, Math.round((cmdRatePerSecond * cmdRateWindowMs) / 1000));
  return {
    /** Port of the terminal WebSocket gateway (0 = any free port). */
    wsPort: readPort(env, 'WS_PORT', 9091),
    /** Interface the gateway binds to (default: HOST). */
    wsHost: readString(env, 'WS_HOST', readString(env, 'HOST', '0.0.0.0')),
    /**
     * Accepted connections that have not registered yet, at most; a new one beyond it is closed at
     * once with 1013 (try again later) rather than left waiting (0 = no limit).
     */
    wsMaxPendingRegistrations: readInt(env, 'WS_MAX_PENDING_REGISTRATIONS', 1000, { min: 0, max: 1_000_000 }),
    /** Largest frame a terminal may send (photos are big); a larger one closes that socket. */
    wsMaxPayloadBytes: readBytes(env, 'WS_MAX_PAYLOAD', 8 * 1024 * 1024, { min: 1024, max: 256 * 1024 * 1024 }),
    /** The gateway pings every terminal this often. */
    pingIntervalMs,
    /** A terminal silent (no frame, no pong) this long is closed and marked offline. */
    livenessTimeoutMs,
    /** `lastSeenAt` is written to the database at most this often per terminal. */
    lastSeenWriteIntervalMs,
    /** A terminal counts as online while its `lastSeenAt` is younger than this (across instances). */
    onlineLeaseMs,
    /** Time zone of terminals that have none configured (default: the server's). */
    defaultTimeZone: readTimeZone(env, 'DEVICE_DEFAULT_TIMEZONE', Intl.DateTimeFormat().resolvedOptions().timeZone),
    /** Serial numbers allowed to register; empty = any terminal. */
    allowList: readList(env, 'DEVICE_ALLOWLIST'),
    /** Text a refused terminal shows on its screen. */
    allowListReason: readString(env, 'DEVICE_ALLOWLIST_REASON', 'Terminal not authorised'),
    /** `nosenduser` in the reg reply: true asks terminals not to push users enrolled at the keypad. */
    noSendUser: readBool(env, 'DEVICE_NOSENDUSER', false),
    /** Frames a terminal may send on its own, per second averaged over the window (0 = no limit). */
    cmdRatePerSecond,
    cmdRateWindowMs,
    /** Frames dropped by the rate limit within one window that close the socket (a sustained flood). */
    floodCloseDrops: readInt(env, 'DEVICE_FLOOD_CLOSE_DROPS', windowAllowance, { min: 1 }),
    /** Largest decoded punch photo kept from a sendlog record; larger photos are dropped (the punch is kept). */
    logImageMaxBytes: readBytes(env, 'DEVICE_LOG_IMAGE_MAX', 2 * 1024 * 1024, { min: 1024 }),
    /** A punch dated more than this ahead of the server clock is stored flagged `clock_suspect`. */
    maxFutureSkewMs: readDurationMs(env, 'DEVICE_MAX_FUTURE_SKEW', 86_400_000, { min: 1_000 }),
    /** Answer to `sendqrcode`: open the door or not, and the text shown. */
    qrcodeAccess: readBool(env, 'DEVICE_QRCODE_ACCESS', false),
    qrcodeMessage: readString(env, 'DEVICE_QRCODE_MESSAGE', 'QR code not accepted'),
    /** When set, POST /api/device-log requires `Authorization: Bearer <token>`. */
    deviceLogToken: readString(env, 'DEVICE_LOG_TOKEN'),
    /** A socket must register (a `reg` answered result:true) within this; anything but reg before it closes the socket. */
    regTimeoutMs: readDurationMs(env, 'WS_REG_TIMEOUT', 10_000, { min: 100 }),
    /** A socket whose unsent data passes this (a terminal that does not read) is closed. */
    wsMaxBufferedBytes: readBytes(env, 'WS_MAX_BUFFERED', 1024 * 1024, { min: 1024 }),
    /** Parsing bounds of one frame: concatenated objects, nesting depth, values in all. */
    frameMaxObjects: readInt(env, 'DEVICE_FRAME_MAX_OBJECTS', 64, { min: 1, max: 10_000 }),
    frameMaxDepth: readInt(env, 'DEVICE_FRAME_MAX_DEPTH', 32, { min: 4, max: 1000 }),
    frameMaxValues: readInt(env, 'DEVICE_FRAME_MAX_VALUES', 20_000, { min: 100 }),
    /** Records one sendlog frame may carry (firmware sends one, or pages of 10-50); a larger frame is answered result:false. */
    sendlogMaxRecords: readInt(env, 'DEVICE_SENDLOG_MAX_RECORDS', 100, { min: 1, max: 100_000 }),
    /** A `devinfo` larger than this (as JSON) is cut to the fields the protocol defines. */
    devinfoMaxBytes: readBytes(env, 'DEVICE_DEVINFO_MAX', 16 * 1024, { min: 1024 }),
    /** How long a serial's current socket has to answer a ping before a new `reg` for that serial may take over. */
    identityPingTimeoutMs: readDurationMs(env, 'DEVICE_IDENTITY_PING_TIMEOUT', 2000, { min: 50 }),
    /**
     * Under a burst of registrations, the trust records of the terminals registering are read
     * together at most once per this interval (a lone reg is read at once): fewer, larger reads.
     */
    regReadIntervalMs: readDurationMs(env, 'DEVICE_REG_READ_INTERVAL', 10, { min: 0, max: 1000 }),
    /**
     * Likewise for the registration writes (online, connection, devinfo, clock); a known terminal's
     * reg is answered without waiting for it, a first registration that pins an identity waits.
     */
    regWriteIntervalMs: readDurationMs(env, 'DEVICE_REG_WRITE_INTERVAL', 50, { min: 0, max: 10_000 }),
    /**
     * How long a terminal's zone and name, read for one of its frames, serve its next frames. A
     * change made through this instance applies at once; one made through another instance within this.
     */
    frameContextTtlMs: readDurationMs(env, 'DEVICE_FRAME_CONTEXT_TTL', 2000, { min: 0, max: 60_000 }),
    /** Text a terminal refused for its hardware identity or a live twin shows. */
    identityReason: readString(env, 'DEVICE_IDENTITY_REASON', 'Serial number in use by another terminal'),
    /** open: any serial registers; approve: an unknown serial waits (pending) until an admin allows it. */
    admission: readEnum(env, 'DEVICE_ADMISSION', ['open', 'approve'] as const, 'open'),
    /** Pending serials recorded at most; beyond this an unknown serial is refused and nothing is written. */
    pendingMax: readInt(env, 'DEVICE_PENDING_MAX', 1000, { min: 0 }),
    /** Text a terminal waiting for approval shows. */
    pendingReason: readString(env, 'DEVICE_PENDING_REASON', 'Waiting for approval'),
    /** `access` in sendlog acks: known = only enroll ids the server knows for that terminal; always; never. */
    accessPolicy: readEnum(env, 'DEVICE_ACCESS_POLICY', ['known', 'always', 'never'] as const, 'known'),
    /** Records one POST /api/device-log may carry; more is refused (413) before any validation. */
    deviceLogMaxRecords: readInt(env, 'DEVICE_LOG_MAX_RECORDS', 1000, { min: 1, max: 1000 }),
    /** Without DEVICE_LOG_TOKEN: true lets any serial post (the old open door); false = known serials only. */
    deviceLogAllowUnknown: readBool(env, 'DEVICE_LOG_ALLOW_UNKNOWN', false),
    /** Decoded photo bytes one serial may store through POST /api/device-log per UTC day; past it punches are kept without photo. */
    deviceLogImageBudgetBytes: readBytes(env, 'DEVICE_LOG_IMAGE_BUDGET', 50 * 1024 * 1024, { min: 0 }),
    /** Id of this instance in terminal documents (INSTANCE_ID, or kept in DATA_DIR/instance-id). */
    instanceId: instanceId(env),
  };
});
export type DevicesConfig = ReturnType<typeof devicesConfig>;
