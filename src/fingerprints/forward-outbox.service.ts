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
  newBatchKey,
  targetFor,
} from '../forwarding';
import { contiguousClaim, isContentRejection, nextBatch } from './forward-batch';
import { FifoGate } from './fifo-gate';
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
/**
 * Streams prepared at once per FORWARD_CONCURRENCY request slot. Most of a small batch's time is
 * database work (head read, claim, result); preparing several while the requests themselves stay
 * within FORWARD_CONCURRENCY keeps the outbox's share of the database under sustained ingest.
 */
const STREAMS_PER_REQUEST_SLOT = 4;
/** forwardNow waits FORWARD_TIMEOUT for another attempt, plus this for it to write its result. */
const SETTLE_GRACE_MS = 500;
/** How often forwardNow re-reads punches another instance holds (this instance's attempts signal). */
const SETTLE_POLL_MS = 100;

/** A batch and what its request got; no result when another attempt holds it. */
interface BatchOutcome {
  members: OutboxPunch[];
  result?: ForwardResult;
}

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
  private readonly settleWaiters = new Set<() => void>();
  /** Requests to the HR server in flight at once (FORWARD_CONCURRENCY), whoever makes them. */
  private readonly requestSlots: FifoGate;

  constructor(
    private readonly logs: FingerPrintLogRepository,
    private readonly forwarding: ForwardingService,
    @Inject(forwardingConfig.KEY) private readonly cfg: ConfigType<typeof forwardingConfig>,
  ) {
    this.requestSlots = new FifoGate(cfg.concurrency);
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    this.notifySettled();
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
    const outcomes = await this.sendHeld(punches, token, { ignoreBackoff: true });
    return outcomes.length > 0 && outcomes.every((o) => o.result?.ok === true);
  }

  /**
   * device-log: these punches delivered now, or not. Sends what no other attempt holds; punches
   * another attempt holds (the outbox, a retry route, another instance) are waited for, up to
   * FORWARD_TIMEOUT, and that attempt's outcome is the answer. Not delivered = an attempt made
   * since the call began failed, or nothing is known by the deadline.
   */
  async forwardNow(ids: string[]): Promise<{ forwarded: boolean }> {
    const unique = [...new Set(ids)];
    if (unique.length === 0) return { forwarded: true };
    const started = new Date();
    const waitUntil = started.getTime() + this.cfg.timeoutMs + SETTLE_GRACE_MS;
    for (;;) {
      const known = await this.logs.findOutboxPunches(unique);
      if (known.length < unique.length) return { forwarded: false };
      const pending = known.filter((p) => p.forward_pending);
      if (pending.length === 0) return { forwarded: true };
      if (pending.some((p) => !this.forwarding.isConfigured(targetFor(p.device_type)))) return { forwarded: false };
      const now = new Date();
      const free = pending.filter((p) => p.lease_until.getTime() <= now.getTime());
      // An attempt made since this call began (ours or another's) has finished without delivering.
      if (free.some((p) => p.last_attempt_at && p.last_attempt_at.getTime() >= started.getTime())) {
        return { forwarded: false };
      }
      if (free.length > 0) {
        const token = randomUUID();
        const claimed = await this.logs.claim(
          free.map((p) => p._id),
          token,
          now,
          this.leaseFrom(now),
          { ignoreBackoff: true },
        );
        const outcomes = await this.sendHeld(claimed, token, { ignoreBackoff: true });
        if (outcomes.some((o) => o.result && !o.result.ok)) return { forwarded: false };
        // Sent: read the state again. Nothing sent (others hold them): wait for their outcome.
        if (outcomes.some((o) => o.result)) continue;
      }
      if (Date.now() >= waitUntil || this.stopped) return { forwarded: false };
      await this.waitForSettle(Math.min(SETTLE_POLL_MS, waitUntil - Date.now()));
    }
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
    const byId = new Map<string, RetryResult>();
    for (const o of await this.sendHeld(claimed, token, { ignoreBackoff: true })) {
      const res = o.result;
      for (const p of o.members) {
        if (!res) continue;
        byId.set(
          p._id,
          res.ok ? { id: p._id, ok: true, response: res.response ?? null } : { id: p._id, ok: false, error: res.error },
        );
      }
    }
    return unit.map((p) => byId.get(p._id) ?? { id: p._id, ok: false, error: IN_PROGRESS });
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
      await eachWithConcurrency(streams, this.cfg.concurrency * STREAMS_PER_REQUEST_SLOT, async (stream) => {
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
      const next = nextBatch(head, now, this.cfg.batchSize);
      if (!next) break;
      const token = randomUUID();
      let outcome: BatchOutcome;
      if (next.kind === 'keyed') {
        outcome = await this.sendBatch(next.key, token, { ignoreBackoff: false });
      } else {
        // Claimed and keyed in one write; only the unbroken run from the head goes out.
        const wanted = next.punches;
        const key = newBatchKey();
        const claimed = await this.logs.claimNewBatch(
          wanted.map((p) => p._id),
          token,
          key,
          now,
          this.leaseFrom(now),
        );
        const { send, release } = contiguousClaim(wanted, new Set(claimed.map((p) => p._id)));
        await this.logs.release(
          release.map((p) => p._id),
          token,
          { unsent: true },
        );
        if (send.length === 0) break;
        const fresh = new Map(claimed.map((p) => [p._id, p]));
        const members = send.map((p) => fresh.get(p._id) ?? p);
        outcome = { members, result: await this.attempt(members, token, key) };
      }
      if (!outcome.result) break;
      attempted = true;
      if (!outcome.result.ok) break;
    }
    return attempted;
  }

  /**
   * Sends punches `token` holds: those already sent in a batch whose outcome is unknown go again
   * with exactly that batch under its key; the others are batched per stream under new keys.
   */
  private async sendHeld(
    punches: OutboxPunch[],
    token: string,
    opts: { ignoreBackoff: boolean },
  ): Promise<BatchOutcome[]> {
    const outcomes: BatchOutcome[] = [];
    const keys = new Set(punches.flatMap((p) => (p.forward_key ? [p.forward_key] : [])));
    for (const key of keys) outcomes.push(await this.sendBatch(key, token, opts));
    const fresh = punches.filter((p) => !p.forward_key);
    for (const group of groupBy(fresh, (p) => `${p.device_type}\u0000${p.device_sn}`)) {
      const target = targetFor(group[0].device_type);
      if (!this.forwarding.isConfigured(target)) {
        await this.logs.release(
          group.map((p) => p._id),
          token,
        );
        outcomes.push({ members: group, result: { ok: false, error: this.notConfiguredMessage(target) } });
        continue;
      }
      for (const part of chunk(group, this.cfg.batchSize)) outcomes.push(await this.sendNew(part, token));
    }
    return outcomes;
  }

  /** A batch sent before under `key`: again, whole, under the same key, or not at all (held elsewhere). */
  private async sendBatch(key: string, token: string, opts: { ignoreBackoff: boolean }): Promise<BatchOutcome> {
    const now = new Date();
    const { members, held } = await this.logs.claimBatch(key, token, now, this.leaseFrom(now), opts);
    if (members.length > 0 && members.every((p) => !p.forward_pending)) {
      return { members, result: { ok: true, response: null } };
    }
    if (!held) return { members };
    return { members, result: await this.attempt(members, token, key) };
  }

  /** New batch: its membership and key are stored before the request goes out. */
  private async sendNew(punches: OutboxPunch[], token: string): Promise<BatchOutcome> {
    const key = newBatchKey();
    const members = await this.logs.assignKey(
      punches.map((p) => p._id),
      token,
      key,
    );
    if (members.length === 0) return { members: punches };
    return { members, result: await this.attempt(members, token, key) };
  }

  /** One request for a batch of one stream, and its result written on the claim. */
  private async attempt(batch: OutboxPunch[], token: string, key: string): Promise<ForwardResult> {
    const ids = batch.filter((p) => p.forward_pending).map((p) => p._id);
    const target = targetFor(batch[0].device_type);
    const payload = buildForwardPayload(snFor(batch[0]), batch);
    const result = await this.requestSlots.run(() => this.forwarding.send(target, payload, key, this.abort.signal));
    const at = new Date();
    try {
      if (result.ok) {
        await this.logs.markDelivered(ids, token, result.response, at);
      } else {
        // Only a definite refusal dissolves the batch; after a timeout, a 5xx or a lost connection
        // the outcome is unknown and the same records go again under the same key.
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
    } finally {
      this.notifySettled();
    }
    return result;
  }

  /** Resolves when an attempt of this process records a result, or after `ms` (other instances). */
  private waitForSettle(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.settleWaiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(1, ms));
      this.settleWaiters.add(done);
    });
  }

  private notifySettled(): void {
    for (const done of [...this.settleWaiters]) done();
  }

  private leaseFrom(now: Date): Date {
    return new Date(now.getTime() + this.cfg.leaseMs);
  }

  private notConfiguredMessage(target: ForwardTarget): string {
    return `${target === 'log' ? 'FORWARD_LOG_URL' : 'FORWARD_FINGERPRINT_URL'} is not configured`;
  }
}
