/** The forwarding state of a punch at the head of its terminal's queue. */
export interface QueuedPunch {
  _id: string;
  next_attempt_at: Date | null;
  lease_until: Date;
  /** Attempts the HR server refused (an outage does not count: the batch and its key stay the same). */
  forward_rejections?: number;
  /** Refused by the HR server when sent on its own (see `claimablePrefix`). */
  forward_isolated?: boolean;
  /**
   * The Idempotency-Key of the batch this punch was sent in, while the outcome of that batch is
   * unknown: it can only be sent again with exactly that batch's records under that key.
   */
  forward_key?: string | null;
}

/**
 * How many punches the next attempt may carry when the HR server already refused the first of them
 * `rejections` times: the batch is halved at each refusal, so a punch it refuses ends up on its own.
 */
export function batchLimit(rejections: number, maxBatch: number): number {
  return Math.max(1, Math.floor(maxBatch / 2 ** rejections));
}

/**
 * The punches one attempt may take from the head of a terminal's queue (ordered oldest first): the
 * run of due, unclaimed punches from the very first one, at most `batchLimit` of them. A head that
 * waits for its backoff or is in flight elsewhere holds the whole queue back, so a terminal's
 * punches reach HR in order. The one exception is an isolated punch (the HR server refused it when
 * it was sent alone): it waits on its own schedule without holding back the punches after it, and
 * is always sent alone, so one poison record cannot stall a terminal's attendance forever.
 */
export function claimablePrefix<T extends QueuedPunch>(queue: T[], now: Date, maxBatch = Infinity): T[] {
  const out: T[] = [];
  for (const punch of queue) {
    const ready = isReady(punch, now);
    if (punch.forward_isolated && !punch.forward_key) {
      if (!ready) continue;
      if (out.length === 0) return [punch];
      break;
    }
    if (!ready) break;
    // A punch already sent in a batch (outcome unknown) goes again only with that batch, never in a new one.
    if (punch.forward_key) break;
    out.push(punch);
  }
  return out.slice(0, batchLimit(out[0]?.forward_rejections ?? 0, maxBatch));
}

function isReady(punch: QueuedPunch, now: Date): boolean {
  const due = punch.next_attempt_at !== null && punch.next_attempt_at.getTime() <= now.getTime();
  return due && punch.lease_until.getTime() <= now.getTime();
}

export type NextBatch<T> = { kind: 'keyed'; key: string } | { kind: 'new'; punches: T[] } | null;

/**
 * What the next attempt of a terminal's queue sends: the batch of the first ready punch when it was
 * already sent under a key whose outcome is unknown (exactly that batch again, under the same key),
 * else a new batch from the head (`claimablePrefix`). Null when the head is in flight or backing off.
 */
export function nextBatch<T extends QueuedPunch>(queue: T[], now: Date, maxBatch = Infinity): NextBatch<T> {
  for (const punch of queue) {
    if (punch.forward_isolated && !punch.forward_key && !isReady(punch, now)) continue;
    if (!isReady(punch, now)) return null;
    if (punch.forward_key) return { kind: 'keyed', key: punch.forward_key };
    break;
  }
  const punches = claimablePrefix(queue, now, maxBatch);
  return punches.length > 0 ? { kind: 'new', punches } : null;
}

/**
 * Whether the HR server answered and refused the content (2xx without confirmation, or a 4xx other
 * than timeout / rate limit), as opposed to being down, overloaded or unreachable.
 */
export function isContentRejection(status: number | undefined): boolean {
  if (status === undefined) return false;
  if (status >= 200 && status < 300) return true;
  return status >= 400 && status < 500 && status !== 408 && status !== 429;
}

/**
 * After claiming `wanted` (in order) and winning `won`, the part to send: the unbroken run from the
 * first; the rest must be released, or a later punch could overtake one another instance holds.
 */
export function contiguousClaim<T extends { _id: string }>(wanted: T[], won: Set<string>): { send: T[]; release: T[] } {
  let cut = wanted.findIndex((p) => !won.has(p._id));
  if (cut === -1) cut = wanted.length;
  return { send: wanted.slice(0, cut), release: wanted.slice(cut).filter((p) => won.has(p._id)) };
}
