import { Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { randomUUID } from 'node:crypto';
import { forwardingConfig } from '../config/forwarding.config';
import {
  buildForwardPayload,
  chunk,
  ForwardingService,
  ForwardResult,
  ForwardTarget,
  idempotencyKeyFor,
  targetFor,
} from '../forwarding';
import { claimablePrefix, contiguousClaim, isContentRejection } from './forward-batch';
import { countForwardAttempt } from '../metrics/hooks';
import { forwardRetryDelayMs } from './forward-backoff';
import { FingerPrintLogRepository, OutboxPunch, OutboxStream } from './fingerprint-log.repository';
import { PunchDeviceType } from './schemas/fingerprint-log.schema';

export interface RetryResult {
  id: string;
  ok: boolean;
  response?: unknown;
  error?: string;
}

export interface RetryReport {
  count: number;
  successCount: number;
  failedCount: number;
  results: RetryResult[];
}

const IN_PROGRESS = 'A forward of this punch is already in progress';
/** Due punches read per round to find the streams with work. */
const STREAM_SCAN = 1000;
/** Rounds per drain; the poller starts a fresh drain soon after anyway. */
const MAX_ROUNDS = 50;

async function eachWithConcurrency<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++];
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** The contract sends `log.device_sn || "App"` for app punches. */
function snFor(punch: OutboxPunch): string {
  return punch.device_type === PunchDeviceType.MobileApp ? punch.device_sn || 'App' : punch.device_sn;
}

function groupBy<T>(items: T[], key: (item: T) => string): T[][] {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return [...groups.values()];
}

/**
 * The forwarding outbox: every undelivered punch is forwarded until the HR server confirms it.
 * State lives in the punch documents (claims with leases, attempts, next attempt time), so it
 * survives restarts and several instances can drain the same collection.
 */
/** Isolated punches (refused by HR on their own) a stream's head read may have to look past. */
const ISOLATED_LOOKAHEAD = 20;

@Injectable()
export class ForwardOutboxService implements OnModuleDestroy {
  private readonly logger = new Logger(ForwardOutboxService.name);
  private running: Promise<void> | null = null;
  private rerun = false;
  private stopped = false;
  private wakeScheduled = false;
  private readonly abort = new AbortController();

  constructor(
    private readonly logs: FingerPrintLogRepository,
    private readonly forwarding: ForwardingService,
    @Inject(forwardingConfig.KEY) private readonly cfg: ConfigType<typeof forwardingConfig>,
  ) {}

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    await this.running;
  }

  /** New punches were stored: drain soon, coalescing many wakes into one run. */
  wake(): void {
    if (this.stopped || this.wakeScheduled) return;
    this.wakeScheduled = true;
    setImmediate(() => {
      this.wakeScheduled = false;
      void this.drain();
    });
  }

  /** Forwards everything due. Never runs twice at once in this process; never throws. */
  drain(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.running) {
      this.rerun = true;
      return this.running;
    }
    const run = async (): Promise<void> => {
      try {
        do {
          this.rerun = false;
          await this.drainRounds();
        } while (this.rerun && !this.stopped);
      } catch (err) {
        this.logger.error(`Forwarding outbox run failed: ${(err as Error).message}`);
      } finally {
        this.running = null;
      }
    };
    this.running = run();
    return this.running;
  }

  /** Punches just stored and already claimed by `token` (the app route): one attempt now. */
  async forwardClaimed(punches: OutboxPunch[], token: string): Promise<boolean> {
    return this.sendClaimed(punches, token);
  }

  /** One attempt now for these punches (device-log); true when all of them are delivered. */
  async forwardNow(ids: string[]): Promise<{ forwarded: boolean }> {
    const unique = [...new Set(ids)];
    if (unique.length === 0) return { forwarded: true };
    const known = await this.logs.findOutboxPunches(unique);
    const pending = known.filter((p) => p.forward_pending);
    if (known.length < unique.length) return { forwarded: false };
    if (pending.length === 0) return { forwarded: true };
    if (pending.some((p) => !this.forwarding.isConfigured(targetFor(p.device_type)))) return { forwarded: false };
    const token = randomUUID();
    const now = new Date();
    const claimed = await this.logs.claim(
      pending.map((p) => p._id),
      token,
      now,
      this.leaseFrom(now),
      { ignoreBackoff: true },
    );
    if (claimed.length === 0) return { forwarded: false };
    const ok = await this.sendClaimed(claimed, token);
    return { forwarded: ok && claimed.length === pending.length };
  }

  /**
   * The retry routes: the contract's selection (bounded), each punch (app) or each batch of a
   * terminal's punches taking its claim just before its request.
   */
  async retryFailed(deviceType: PunchDeviceType): Promise<RetryReport> {
    const candidates = await this.logs.retryCandidates(deviceType, this.cfg.retryFailedMax);
    const target = targetFor(deviceType);
    const outcome = new Map<string, RetryResult>();
    if (!this.forwarding.isConfigured(target)) {
      const error = this.notConfiguredMessage(target);
      for (const p of candidates) outcome.set(p._id, { id: p._id, ok: false, error });
    } else {
      const units: OutboxPunch[][] =
        deviceType === PunchDeviceType.MobileApp
          ? candidates.map((p) => [p])
          : groupBy(candidates, (p) => p.device_sn).flatMap((g) => chunk(g, this.cfg.batchSize));
      await eachWithConcurrency(units, this.cfg.concurrency, async (unit) => {
        for (const r of await this.retryUnit(unit)) outcome.set(r.id, r);
      });
    }
    const results = candidates.map((p) => outcome.get(p._id) ?? { id: p._id, ok: false, error: IN_PROGRESS });
    const successCount = results.filter((r) => r.ok).length;
    return { count: results.length, successCount, failedCount: results.length - successCount, results };
  }

  private async retryUnit(unit: OutboxPunch[]): Promise<RetryResult[]> {
    const token = randomUUID();
    const now = new Date();
    const claimed = await this.logs.claim(
      unit.map((p) => p._id),
      token,
      now,
      this.leaseFrom(now),
      { ignoreBackoff: true },
    );
    const won = new Set(claimed.map((p) => p._id));
    const results: RetryResult[] = unit
      .filter((p) => !won.has(p._id))
      .map((p) => ({ id: p._id, ok: false, error: IN_PROGRESS }));
    if (claimed.length > 0) {
      const res = await this.attempt(claimed, token);
      for (const p of claimed) {
        results.push(
          res.ok ? { id: p._id, ok: true, response: res.response ?? null } : { id: p._id, ok: false, error: res.error },
        );
      }
    }
    return results;
  }

  private configuredTypes(): PunchDeviceType[] {
    return [PunchDeviceType.Terminal, PunchDeviceType.MobileApp].filter((t) =>
      this.forwarding.isConfigured(targetFor(t)),
    );
  }

  private async drainRounds(): Promise<void> {
    const types = this.configuredTypes();
    if (types.length === 0) return;
    for (let round = 0; round < MAX_ROUNDS && !this.stopped; round++) {
      const streams = await this.logs.dueStreams(types, new Date(), STREAM_SCAN);
      if (streams.length === 0) return;
      let attempted = false;
      await eachWithConcurrency(streams, this.cfg.concurrency, async (stream) => {
        if (await this.drainStream(stream)) attempted = true;
      });
      if (!attempted) return;
    }
  }

  /** Sends a stream's queue batch after batch, in order, until it is empty, blocked or failing. */
  private async drainStream(stream: OutboxStream): Promise<boolean> {
    let attempted = false;
    while (!this.stopped) {
      const now = new Date();
      // A little more than a batch: isolated punches waiting for their backoff are skipped, not sent.
      const head = await this.logs.streamHead(stream, this.cfg.batchSize + ISOLATED_LOOKAHEAD);
      const wanted = claimablePrefix(head, now, this.cfg.batchSize);
      if (wanted.length === 0) break;
      const token = randomUUID();
      const claimed = await this.logs.claim(
        wanted.map((p) => p._id),
        token,
        now,
        this.leaseFrom(now),
      );
      const { send, release } = contiguousClaim(wanted, new Set(claimed.map((p) => p._id)));
      await this.logs.release(
        release.map((p) => p._id),
        token,
      );
      if (send.length === 0) break;
      attempted = true;
      const fresh = new Map(claimed.map((p) => [p._id, p]));
      const res = await this.attempt(
        send.map((p) => fresh.get(p._id) ?? p),
        token,
      );
      if (!res.ok) break;
    }
    return attempted;
  }

  /** Claimed punches, possibly of several streams: batched per stream, sent in order. */
  private async sendClaimed(punches: OutboxPunch[], token: string): Promise<boolean> {
    let allOk = true;
    for (const group of groupBy(punches, (p) => `${p.device_type}\u0000${p.device_sn}`)) {
      const target = targetFor(group[0].device_type);
      if (!this.forwarding.isConfigured(target)) {
        await this.logs.release(
          group.map((p) => p._id),
          token,
        );
        allOk = false;
        continue;
      }
      for (const batch of chunk(group, this.cfg.batchSize)) {
        const res = await this.attempt(batch, token);
        if (!res.ok) allOk = false;
      }
    }
    return allOk;
  }

  /** One request for a batch of one stream, and its result written on the claim. */
  private async attempt(batch: OutboxPunch[], token: string): Promise<ForwardResult> {
    const ids = batch.map((p) => p._id);
    const target = targetFor(batch[0].device_type);
    const result = await this.forwarding.send(
      target,
      buildForwardPayload(snFor(batch[0]), batch),
      idempotencyKeyFor(ids),
      this.abort.signal,
    );
    countForwardAttempt(target, result);
    const at = new Date();
    try {
      if (result.ok) {
        await this.logs.markDelivered(ids, token, result.response, at);
      } else {
        const rejected = isContentRejection(result.status);
        const failures = Math.max(...batch.map((p) => p.forward_attempts)) + 1;
        const delay = forwardRetryDelayMs(failures, { baseMs: this.cfg.retryBaseMs, maxMs: this.cfg.retryMaxMs });
        await this.logs.markFailed(ids, token, {
          error: result.error ?? 'Forward failed',
          response: result.response,
          at,
          nextAttemptAt: new Date(at.getTime() + delay),
          rejected,
          isolate: rejected && batch.length === 1,
        });
      }
    } catch (err) {
      // The claim's lease runs out and the outbox tries again; nothing is lost.
      this.logger.error(`Could not record a forward result for ${ids.length} punch(es): ${(err as Error).message}`);
    }
    return result;
  }

  private leaseFrom(now: Date): Date {
    return new Date(now.getTime() + this.cfg.leaseMs);
  }

  private notConfiguredMessage(target: ForwardTarget): string {
    return `${target === 'log' ? 'FORWARD_LOG_URL' : 'FORWARD_FINGERPRINT_URL'} is not configured`;
  }
}
