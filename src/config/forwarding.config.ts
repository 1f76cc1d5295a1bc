import { registerAs } from '@nestjs/config';
import { ConfigValidationError, readBool, readDurationMs, readInt, readString, readUrl } from './env';

export const forwardingConfig = registerAs('forwarding', () => {
  const env = process.env;
  const timeoutMs = readDurationMs(env, 'FORWARD_TIMEOUT', 10_000, { min: 100, max: 10_000 });
  const leaseMs = readDurationMs(env, 'FORWARD_CLAIM_LEASE', Math.max(30_000, timeoutMs * 3), { min: 1_000 });
  if (leaseMs <= timeoutMs) {
    throw new ConfigValidationError('FORWARD_CLAIM_LEASE', `must be longer than FORWARD_TIMEOUT (${timeoutMs} ms)`);
  }
  const retryBaseMs = readDurationMs(env, 'FORWARD_RETRY_BASE', 2_000, { min: 10 });
  const retryMaxMs = readDurationMs(env, 'FORWARD_RETRY_MAX', 60_000, { min: 10 });
  if (retryMaxMs < retryBaseMs) {
    throw new ConfigValidationError('FORWARD_RETRY_MAX', `must be at least FORWARD_RETRY_BASE (${retryBaseMs} ms)`);
  }
  return {
    /** HR endpoint for terminal and /api/device-log punches. */
    logUrl: readUrl(env, 'FORWARD_LOG_URL'),
    logToken: readString(env, 'FORWARD_LOG_TOKEN'),
    /** HR endpoint for mobile-app punches. */
    fingerprintUrl: readUrl(env, 'FORWARD_FINGERPRINT_URL'),
    fingerprintToken: readString(env, 'FORWARD_FINGERPRINT_TOKEN'),
    timeoutMs,
    batchSize: readInt(env, 'FORWARD_BATCH_SIZE', 100, { min: 1, max: 5000 }),
    retryBaseMs,
    retryMaxMs,
    pollIntervalMs: readDurationMs(env, 'FORWARD_POLL_INTERVAL', 5_000, { min: 50, max: 5_000 }),
    /** How long an attempt owns its punches; a crashed instance's claims are taken over after it. */
    leaseMs,
    /** Requests to the HR server in flight at once (outbox and retry routes). */
    concurrency: readInt(env, 'FORWARD_CONCURRENCY', 4, { min: 1, max: 64 }),
    /** Punches one call of a retry-failed route handles at most. */
    retryFailedMax: readInt(env, 'FORWARD_RETRY_FAILED_MAX', 500, { min: 1, max: 10_000 }),
    /** Delivered = 2xx with a JSON body whose `confirmField` is true (unless confirmation is off). */
    confirmRequired: readBool(env, 'FORWARD_CONFIRM_REQUIRED', true),
    confirmField: readString(env, 'FORWARD_CONFIRM_FIELD', 'success'),
    /** Terminal frames whose punches are written at once; the rest wait their turn (fair share for the outbox). */
    storeConcurrency: readInt(env, 'PUNCH_STORE_CONCURRENCY', 16, { min: 1, max: 1000 }),
    /** Largest punch photo, decoded. */
    imageMaxBytes: readInt(env, 'PUNCH_IMAGE_MAX_BYTES', 2 * 1024 * 1024, { min: 1024, max: 50 * 1024 * 1024 }),
  };
});
export type ForwardingConfig = ReturnType<typeof forwardingConfig>;
