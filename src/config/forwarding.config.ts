import { registerAs } from '@nestjs/config';
import { readDurationMs, readInt, readString, readUrl } from './env';

export const forwardingConfig = registerAs('forwarding', () => {
  const env = process.env;
  return {
    /** HR endpoint for terminal and /api/device-log punches. */
    logUrl: readUrl(env, 'FORWARD_LOG_URL'),
    logToken: readString(env, 'FORWARD_LOG_TOKEN'),
    /** HR endpoint for mobile-app punches. */
    fingerprintUrl: readUrl(env, 'FORWARD_FINGERPRINT_URL'),
    fingerprintToken: readString(env, 'FORWARD_FINGERPRINT_TOKEN'),
    timeoutMs: readDurationMs(env, 'FORWARD_TIMEOUT', 10_000, { min: 100, max: 10_000 }),
    batchSize: readInt(env, 'FORWARD_BATCH_SIZE', 100, { min: 1, max: 5000 }),
    retryBaseMs: readDurationMs(env, 'FORWARD_RETRY_BASE', 2_000, { min: 10 }),
    retryMaxMs: readDurationMs(env, 'FORWARD_RETRY_MAX', 60_000, { min: 10 }),
    pollIntervalMs: readDurationMs(env, 'FORWARD_POLL_INTERVAL', 5_000, { min: 50, max: 5_000 }),
  };
});
export type ForwardingConfig = ReturnType<typeof forwardingConfig>;
