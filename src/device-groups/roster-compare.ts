import { createHash } from 'node:crypto';
import { isCredentialSlot, normaliseCredentialRecord } from '@app/device-protocol';

/**
 * Pure comparison of terminal rosters: users keyed by enroll id, credentials keyed by slot and
 * compared by a hash of each credential's record (never by position in a list).
 */

export interface RosterCredential {
  /** undefined when the record is not known (never read): such a credential cannot be compared */
  hash?: string;
  /** when the server last learned this credential (ms since epoch) */
  at: number;
}

export interface RosterUser {
  enrollid: number;
  credentials: Map<number, RosterCredential>;
}

export type Roster = Map<number, RosterUser>;

/** What the comparison reads of the server's copy of a terminal user (DeviceUserView fits). */
export interface CopyUser {
  enrollid: number;
  onDevice: boolean;
  credentials: { backupnum: number; record?: string | number | null; updatedAt: Date; onDevice: boolean }[];
}

export interface DifferingUser {
  enrollid: number;
  /** slots missing on the compared terminal or holding another record */
  backupnums: number[];
}

export interface RosterDiff {
  missing: number[];
  extra: number[];
  differing: DifferingUser[];
}

/** The record in the form it is written to a terminal, so a quoted card number equals the number. */
function canonicalRecord(backupnum: number, record: string | number): string {
  try {
    return String(normaliseCredentialRecord(backupnum, record));
  } catch {
    return String(record);
  }
}

/** A short stable hash of one credential (slot + record); undefined for an unknown record. */
export function credentialHash(backupnum: number, record: string | number | null | undefined): string | undefined {
  if (record === undefined || record === null || record === '') return undefined;
  return createHash('sha256')
    .update(`${backupnum}\u0000${canonicalRecord(backupnum, record)}`)
    .digest('hex')
    .slice(0, 24);
}

/**
 * A roster from the server's copy. `onDeviceOnly`: what the terminal holds now (users and
 * credentials the last read still listed); otherwise everything the server ever kept (a backup).
 * `unread` (`enrollid:backupnum`) marks credentials whose record could not be read this time.
 */
export function rosterFromCopy(
  users: CopyUser[],
  opts: { onDeviceOnly: boolean; unread?: ReadonlySet<string> },
): Roster {
  const roster: Roster = new Map();
  for (const user of users) {
    if (opts.onDeviceOnly && !user.onDevice) continue;
    const credentials = new Map<number, RosterCredential>();
    for (const c of user.credentials) {
      if (opts.onDeviceOnly && !c.onDevice) continue;
      if (!isCredentialSlot(c.backupnum)) continue;
      const unread = opts.unread?.has(`${user.enrollid}:${c.backupnum}`) ?? false;
      const hash = unread ? undefined : credentialHash(c.backupnum, c.record);
      // A backup without the record cannot restore the credential: leave it out.
      if (!opts.onDeviceOnly && hash === undefined) continue;
      credentials.set(c.backupnum, { ...(hash !== undefined && { hash }), at: new Date(c.updatedAt).getTime() });
    }
    if (!opts.onDeviceOnly && credentials.size === 0) continue;
    roster.set(user.enrollid, { enrollid: user.enrollid, credentials });
  }
  return roster;
}

/** Slots of `want` that `have` lacks or holds with another record (unknown records are not judged). */
function differingSlots(want: RosterUser, have: RosterUser): number[] {
  const out: number[] = [];
  for (const [backupnum, cred] of want.credentials) {
    const other = have.credentials.get(backupnum);
    if (!other) out.push(backupnum);
    else if (cred.hash !== undefined && other.hash !== undefined && cred.hash !== other.hash) out.push(backupnum);
  }
  return out.sort((a, b) => a - b);
}

/** What `target` must gain (missing, differing) or lose (extra) to hold what `source` holds. */
export function diffRosters(source: Roster, target: Roster, enrollIds?: number[]): RosterDiff {
  const wanted = enrollIds ? new Set(enrollIds) : undefined;
  const keep = (id: number): boolean => wanted === undefined || wanted.has(id);
  const missing: number[] = [];
  const differing: DifferingUser[] = [];
  for (const [enrollid, user] of source) {
    if (!keep(enrollid)) continue;
    const other = target.get(enrollid);
    if (!other) missing.push(enrollid);
    else {
      const backupnums = differingSlots(user, other);
      if (backupnums.length > 0) differing.push({ enrollid, backupnums });
    }
  }
  const extra = [...target.keys()].filter((id) => keep(id) && !source.has(id));
  const byId = (a: number, b: number) => a - b;
  return {
    missing: missing.sort(byId),
    extra: extra.sort(byId),
    differing: differing.sort((a, b) => a.enrollid - b.enrollid),
  };
}

export interface MemberDrift extends RosterDiff {
  sn: string;
}

/**
 * Drift of a group. A user belongs on every member when at least half the members hold it (ties
 * count as present: propagation adds, it never removes on its own); a user held by fewer is extra
 * where it is held. Each slot's expected record is the one most members hold, ties to the newest.
 */
export function groupDrift(members: { sn: string; roster: Roster }[]): MemberDrift[] {
  const holders = new Map<number, RosterUser[]>();
  for (const m of members) {
    for (const user of m.roster.values()) {
      const list = holders.get(user.enrollid) ?? [];
      list.push(user);
      holders.set(user.enrollid, list);
    }
  }
  const reference: Roster = new Map();
  for (const [enrollid, list] of holders) {
    if (list.length * 2 < members.length) continue;
    reference.set(enrollid, { enrollid, credentials: referenceCredentials(list) });
  }
  return members.map((m) => {
    const diff = diffRosters(reference, m.roster);
    return { sn: m.sn, ...diff };
  });
}

function referenceCredentials(holders: RosterUser[]): Map<number, RosterCredential> {
  const votes = new Map<number, Map<string, { count: number; at: number }>>();
  const unknown = new Map<number, number>();
  for (const user of holders) {
    for (const [backupnum, cred] of user.credentials) {
      if (cred.hash === undefined) {
        unknown.set(backupnum, Math.max(unknown.get(backupnum) ?? 0, cred.at));
        continue;
      }
      const slot = votes.get(backupnum) ?? new Map<string, { count: number; at: number }>();
      const v = slot.get(cred.hash) ?? { count: 0, at: 0 };
      slot.set(cred.hash, { count: v.count + 1, at: Math.max(v.at, cred.at) });
      votes.set(backupnum, slot);
    }
  }
  const out = new Map<number, RosterCredential>();
  for (const [backupnum, slot] of votes) {
    let best: { hash: string; count: number; at: number } | undefined;
    for (const [hash, v] of slot) {
      if (!best || v.count > best.count || (v.count === best.count && v.at > best.at)) best = { hash, ...v };
    }
    if (best) out.set(backupnum, { hash: best.hash, at: best.at });
  }
  for (const [backupnum, at] of unknown) if (!out.has(backupnum)) out.set(backupnum, { at });
  return out;
}

/** One digest of what a terminal holds (users, slots, records): equal digests, equal rosters. */
export function rosterDigest(roster: Roster): string {
  const lines: string[] = [];
  for (const user of [...roster.values()].sort((a, b) => a.enrollid - b.enrollid)) {
    for (const [backupnum, cred] of [...user.credentials].sort((a, b) => a[0] - b[0])) {
      lines.push(`${user.enrollid}:${backupnum}:${cred.hash ?? '?'}`);
    }
  }
  return createHash('sha256').update(lines.join('\n')).digest('hex');
}
