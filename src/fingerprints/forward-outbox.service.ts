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
import { countForwardAttempt } from '../metrics/hooks';
import { forwardRetryDelayMs } from './forward-backoff';
import {
  FingerPrintLogRecord,
  FingerPrintLogRepository,
  ForwardOutcomeRecord,
  NewFingerPrintLog,
  OutboxPunch,
  outboxPunchOf,
  OutboxStream,
} from './fingerprint-log.repository';
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
/** A round's last request starts at least this long (at most half the room), plus FORWARD_TIMEOUT, before its claim's lease ends. */
const LEASE_MARGIN_MS = 1_000;
/** Punches one round reads at most (the heads of all its streams together). */
const HEADS_READ_MAX = 20_000;
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

  /**
   * The app route: the punch is stored already claimed by this attempt, under the key of its own
   * batch (one write), so no drain can send it meanwhile; then one attempt now. It stays stored
   * whatever the outcome. Returns the punch as this attempt left it.
   */
  async storeAndForward(doc: NewFingerPrintLog): Promise<{ punch: FingerPrintLogRecord; forwarded: boolean }> {
    if (!this.forwarding.isConfigured(targetFor(doc.device_type))) {
      return { punch: await this.logs.insertPunch(doc), forwarded: false };
    }
    const now = new Date();
    const token = randomUUID();
    const key = newBatchKey();
    const stored = await this.logs.insertPunch(doc, { token, key, leaseUntil: this.leaseFrom(now) });
    const punch = outboxPunchOf(stored);
    const result = await this.send([punch], key);
    let after: FingerPrintLogRecord | null | undefined;
    try {
      after = await this.logs.recordResultOf({ ...this.outcomeRecord([punch], token, result), ids: [punch._id] });
    } catch (err) {
      // The claim's lease runs out and the outbox sends it again under the same key; nothing is lost.
      this.logger.error(`Could not record the forward result of punch ${punch._id}: ${(err as Error).message}`);
    } finally {
      this.notifySettled();
    }
    // null: the claim ran out during the request and another attempt holds the punch now.
    if (after === null) after = await this.logs.findById(punch._id);
    return { punch: after ?? stored, forwarded: result.ok };
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
      if (!(await this.drainRound(streams))) return;
    }
  }

  /**
   * One batch from each stream with work, with a fixed number of database round trips whatever the
   * number of streams: the heads in one read, the new batches claimed and keyed in one write, their
   * results in one write. Under sustained ingest from many terminals the batches are small, and
   * several commands per batch were what starved forwarding. A stream's next batch waits for the
   * next round, after this one's result is written, so order per terminal holds.
   */
  private async drainRound(streams: OutboxStream[]): Promise<boolean> {
    const now = new Date();
    const perStream = this.cfg.batchSize + ISOLATED_LOOKAHEAD;
    const heads = await this.logs.streamHeads(streams, perStream, Math.min(HEADS_READ_MAX, streams.length * perStream));
    const keyed: string[] = [];
    const fresh: Array<{ key: string; wanted: OutboxPunch[] }> = [];
    for (const head of heads.values()) {
      const next = nextBatch(head, now, this.cfg.batchSize);
      if (next?.kind === 'keyed') keyed.push(next.key);
      else if (next) fresh.push({ key: newBatchKey(), wanted: next.punches });
    }
    const sent = await this.sendNewBatches(fresh);
    let attempted = sent > 0;
    // Batches whose earlier outcome is unknown go again whole, under their key (rare: after outages).
    await eachWithConcurrency(keyed, this.cfg.concurrency, async (key) => {
      if ((await this.sendBatch(key, randomUUID(), { ignoreBackoff: false })).result) attempted = true;
    });
    return attempted;
  }

  /** New batches: claimed and keyed in one write, sent, their results written in one; how many were sent. */
  private async sendNewBatches(fresh: Array<{ key: string; wanted: OutboxPunch[] }>): Promise<number> {
    const now = new Date();
    const token = randomUUID();
    const won = await this.logs.claimNewBatches(
      fresh.map((b) => ({ ids: b.wanted.map((p) => p._id), key: b.key })),
      token,
      now,
      this.leaseFrom(now),
    );
    const batches: Array<{ key: string; members: OutboxPunch[] }> = [];
    const unsent: string[] = [];
    for (const b of fresh) {
      const claimed = new Map((won.get(b.key) ?? []).map((p) => [p._id, p]));
      const { send, release } = contiguousClaim(b.wanted, new Set(claimed.keys()));
      unsent.push(...release.map((p) => p._id));
      if (send.length > 0) batches.push({ key: b.key, members: send.map((p) => claimed.get(p._id) ?? p) });
    }
    await this.logs.release(unsent, token, { unsent: true });

    // No request starts once the claim could run out before its answer (an HR server that times out
    // every request): the rest are given back and go in the next round.
    const room = this.cfg.leaseMs - this.cfg.timeoutMs;
    const sendBy = now.getTime() + room - Math.min(LEASE_MARGIN_MS, room / 2);
    const results: ForwardOutcomeRecord[] = [];
    const late: string[] = [];
    let begun = 0;
    await eachWithConcurrency(batches, this.cfg.concurrency, async (b) => {
      // The first wave always goes: a slow database must not keep the outbox from sending at all.
      if (this.stopped || (begun >= this.cfg.concurrency && Date.now() > sendBy)) {
        late.push(...b.members.map((p) => p._id));
        return;
      }
      begun++;
      const result = await this.send(b.members, b.key);
      results.push(this.outcomeRecord(b.members, token, result));
    });
    await this.logs.release(late, token, { unsent: true });
    try {
      await this.logs.recordResults(results);
    } catch (err) {
      // The claims' leases run out and the outbox tries again; nothing is lost.
      this.logger.error(`Could not record the results of ${results.length} forward(s): ${(err as Error).message}`);
    } finally {
      if (results.length > 0) this.notifySettled();
    }
    return results.length;
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
    const result = await this.send(batch, key);
    const record = this.outcomeRecord(batch, token, result);
    try {
      await this.logs.recordResults([record]);
    } catch (err) {
      // The claim's lease runs out and the outbox tries again; nothing is lost.
      this.logger.error(
        `Could not record a forward result for ${record.ids.length} punch(es): ${(err as Error).message}`,
      );
    } finally {
      this.notifySettled();
    }
    return result;
  }

  /** One request for a batch of one stream, within FORWARD_CONCURRENCY. */
  private send(batch: OutboxPunch[], key: string): Promise<ForwardResult> {
    const target = targetFor(batch[0].device_type);
    const payload = buildForwardPayload(snFor(batch[0]), batch);
    return this.requestSlots.run(async () => {
      const result = await this.forwarding.send(target, payload, key, this.abort.signal);
      countForwardAttempt(target, result);
      return result;
    });
  }

  /** What a request's result means for its punches (written only where `token` still holds them). */
  private outcomeRecord(batch: OutboxPunch[], token: string, result: ForwardResult): ForwardOutcomeRecord {
    const ids = batch.filter((p) => p.forward_pending).map((p) => p._id);
    const at = new Date();
    if (result.ok) return { kind: 'delivered', ids, token, response: result.response, at };
    // Only a definite refusal dissolves the batch; after a timeout, a 5xx or a lost connection the
    // outcome is unknown and the same records go again under the same key.
    const rejected = isContentRejection(result.status);
    const failures = Math.max(...batch.map((p) => p.forward_attempts)) + 1;
    const delay = forwardRetryDelayMs(failures, { baseMs: this.cfg.retryBaseMs, maxMs: this.cfg.retryMaxMs });
    return {
      kind: 'failed',
      ids,
      token,
      error: result.error ?? 'Forward failed',
      response: result.response,
      at,
      nextAttemptAt: new Date(at.getTime() + delay),
      rejected,
      isolate: rejected && batch.length === 1,
    };
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
