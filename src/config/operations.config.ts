import { registerAs } from '@nestjs/config';
import { readDurationMs, readInt } from './env';

export const operationsConfig = registerAs('operations', () => {
  const env = process.env;
  return {
    /** Wait for a terminal's reply to one command. */
    replyTimeoutMs: readDurationMs(env, 'OP_REPLY_TIMEOUT', 10_000, { min: 100 }),
    /** Wait for one page of a paged command, or a photo transfer. */
    pageTimeoutMs: readDurationMs(env, 'OP_PAGE_TIMEOUT', 60_000, { min: 100 }),
    /**
     * Wait for one page of the background catch-up getnewlog (queued when a terminal reports unsent
     * logs): short, so a terminal that ignores getnewlog does not hold up anything for long.
     */
    catchUpPageTimeoutMs: readDurationMs(env, 'OP_CATCHUP_PAGE_TIMEOUT', 15_000, { min: 100 }),
    retryBaseMs: readDurationMs(env, 'OP_RETRY_BASE', 2_000, { min: 10 }),
    retryMaxMs: readDurationMs(env, 'OP_RETRY_MAX', 60_000, { min: 10 }),
    maxAttempts: readInt(env, 'OP_MAX_ATTEMPTS', 5, { min: 1, max: 100 }),
    /** How long an HTTP call waits for a terminal's answer before 504 (the operation carries on). */
    waitTimeoutMs: readDurationMs(env, 'OP_WAIT_TIMEOUT', 60_000, { min: 100 }),
    retentionDays: readInt(env, 'OP_RETENTION_DAYS', 90, { min: 1 }),
    /** How often this instance looks for due work of its terminals, retries and expired leases. */
    pollIntervalMs: readDurationMs(env, 'OP_POLL_INTERVAL', 1_000, { min: 50, max: 60_000 }),
    /**
     * Lease on an operation in flight, renewed every third of it while the instance lives: when an
     * instance dies, its operations go back to the queue this long after its last renewal.
     */
    leaseTtlMs: readDurationMs(env, 'OP_LEASE_TTL', 30_000, { min: 300 }),
    /**
     * Terminals that just registered are asked together whether an operation is open for them: under
     * a burst of registrations (a fleet back after a restart) at most one such read per this
     * interval; a lone registration is checked at once.
     */
    registeredCheckIntervalMs: readDurationMs(env, 'OP_REGISTERED_CHECK_INTERVAL', 100, { min: 0, max: 10_000 }),
    /** How often finished operations past the retention age are removed. */
    retentionIntervalMs: readDurationMs(env, 'OP_RETENTION_INTERVAL', 3_600_000, { min: 1_000 }),
  };
});
export type OperationsConfig = ReturnType<typeof operationsConfig>;
