/** The forwarding state of a punch at the head of its terminal's queue. */
export interface QueuedPunch {
  _id: string;
  next_attempt_at: Date | null;
  lease_until: Date;
}

/**
 * The punches one attempt may take from the head of a terminal's queue (ordered oldest first): the
 * run of due, unclaimed punches from the very first one. A head that waits for its backoff or is
 * in flight elsewhere holds the whole queue back, so a terminal's punches reach HR in order.
 */
export function claimablePrefix<T extends QueuedPunch>(queue: T[], now: Date): T[] {
  const out: T[] = [];
  for (const punch of queue) {
    const due = punch.next_attempt_at !== null && punch.next_attempt_at.getTime() <= now.getTime();
    if (!due || punch.lease_until.getTime() > now.getTime()) break;
    out.push(punch);
  }
  return out;
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
