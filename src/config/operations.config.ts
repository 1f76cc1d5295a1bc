import { registerAs } from '@nestjs/config';
import { readDurationMs, readInt } from './env';

export const operationsConfig = registerAs('operations', () => {
  const env = process.env;
  return {
    /** Wait for a terminal's reply to one command. */
    replyTimeoutMs: readDurationMs(env, 'OP_REPLY_TIMEOUT', 10_000, { min: 100 }),
    /** Wait for one page of a paged command, or a photo transfer. */
    pageTimeoutMs: readDurationMs(env, 'OP_PAGE_TIMEOUT', 60_000, { min: 100 }),
    retryBaseMs: readDurationMs(env, 'OP_RETRY_BASE', 2_000, { min: 10 }),
    retryMaxMs: readDurationMs(env, 'OP_RETRY_MAX', 60_000, { min: 10 }),
    maxAttempts: readInt(env, 'OP_MAX_ATTEMPTS', 5, { min: 1, max: 100 }),
    /** How long an HTTP call waits for a terminal's answer before 504 (the operation carries on). */
    waitTimeoutMs: readDurationMs(env, 'OP_WAIT_TIMEOUT', 60_000, { min: 100 }),
    retentionDays: readInt(env, 'OP_RETENTION_DAYS', 90, { min: 1 }),
  };
});
export type OperationsConfig = ReturnType<typeof operationsConfig>;
