import { registerAs } from '@nestjs/config';
import { ConfigValidationError, readDurationMs, readEnum, readString } from './env';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const LOG_FORMATS = ['json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

type Env = Record<string, string | undefined>;

/**
 * Logging is needed before Nest (and its config module) exists, to report a failed start, so it
 * reads the environment on its own; the `ops` namespace repeats it for the rest of the app.
 * JSON in production and whenever stdout is not a terminal (a pipe, a file, a container log).
 */
export function loggingOptions(env: Env = process.env, stdoutIsTty = process.stdout.isTTY === true) {
  const nodeEnv = readString(env, 'NODE_ENV', 'development');
  return {
    // Tests keep the console for failures; the app's own lines would bury Jest's report.
    level: readEnum<LogLevel>(env, 'LOG_LEVEL', LOG_LEVELS, nodeEnv === 'test' ? 'error' : 'info'),
    format: readEnum<LogFormat>(
      env,
      'LOG_FORMAT',
      LOG_FORMATS,
      nodeEnv === 'production' || !stdoutIsTty ? 'json' : 'pretty',
    ),
    colour: stdoutIsTty && nodeEnv !== 'production',
  };
}

function metricsToken(env: Env): string | undefined {
  const token = readString(env, 'METRICS_TOKEN');
  if (token !== undefined && token.length < 16)
    throw new ConfigValidationError('METRICS_TOKEN', 'must be at least 16 characters');
  return token;
}

/** Operations: logs, metrics, probes, shutdown drain and the cross-instance wake-up. */
export const opsConfig = registerAs('ops', () => {
  const env = process.env;
  return {
    logging: loggingOptions(env),
    /** Bearer token GET /metrics requires; unset = open to whoever reaches the HTTP port. */
    metricsToken: metricsToken(env),
    /** Database-derived gauges (queue depth, backlog) are read at most this often, whatever the scrape rate. */
    metricsDbRefreshMs: readDurationMs(env, 'METRICS_DB_REFRESH', 10_000, { min: 1000, max: 300_000 }),
    /** /api/health says `degraded` when the oldest unforwarded punch is older than this. */
    forwardBacklogMaxAgeMs: readDurationMs(env, 'HEALTH_FORWARD_BACKLOG_MAX_AGE', 15 * 60_000, { min: 1000 }),
    /** On SIGTERM, readiness is off for this long before the ports close (balancers notice first). */
    drainDelayMs: readDurationMs(env, 'SHUTDOWN_DRAIN_DELAY', 3_000, { max: 120_000 }),
    /** How often an instance looks for work other instances queued for its terminals. */
    queueWakePollMs: readDurationMs(env, 'QUEUE_WAKE_POLL_INTERVAL', 100, { min: 20, max: 10_000 }),
    /** Read only to announce the admission mode at boot (validated by the devices namespace, when it has it). */
    deviceAdmission: readString(env, 'DEVICE_ADMISSION'),
  };
});
export type OpsConfig = ReturnType<typeof opsConfig>;
