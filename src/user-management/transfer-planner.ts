import { isCredentialSlot, normaliseCredentialRecord } from '@app/device-protocol';
import { describeError } from '@app/common';

/** Pure planning of a transfer: which credentials go to the target, and which users may leave the source. */

/** One credential row of a source user and what reading it gave. */
export type FetchedCredential =
  | { backupnum: number; ok: true; record: unknown; name?: string; admin?: number }
  | { backupnum: number; ok: false; error: string };

export interface FetchedUser {
  enrollid: number;
  name?: string;
  admin?: number;
  credentials: FetchedCredential[];
}

export interface PlannedPush {
  backupnum: number;
  /** setuserinfo payload: name and admin level kept, card/password as numbers */
  payload: { enrollid: number; name: string; backupnum: number; admin: number; record: string | number };
}

export interface UnreadableCredential {
  backupnum: number;
  reason: string;
}

export type PlannedUser =
  | { kind: 'not_found'; enrollid: number }
  | {
      kind: 'transfer';
      enrollid: number;
      pushes: PlannedPush[];
      /** credentials that could not be read or are not valid to write: never pushed, and they keep the user on the source */
      unreadable: UnreadableCredential[];
      /** a move deletes the user from the source only when every credential was read and will be pushed */
      deleteFromSource: boolean;
    };

/** 0 user, 1 admin, 2 super user; anything else a terminal reports is written as a plain user. */
function toAdmin(value: number | undefined): number {
  return value !== undefined && Number.isInteger(value) && value >= 0 && value <= 2 ? value : 0;
}

function planUser(user: FetchedUser, move: boolean): PlannedUser {
  const seen = new Set<number>();
  const credentials = [...user.credentials]
    .sort((a, b) => a.backupnum - b.backupnum)
    .filter((c) => (seen.has(c.backupnum) ? false : (seen.add(c.backupnum), true)));
  const readOk = credentials.filter((c): c is Extract<FetchedCredential, { ok: true }> => c.ok);
  // The name and admin level as the terminal reported them in getuserinfo win over the roster.
  const name = readOk.find((c) => c.name)?.name ?? user.name ?? '';
  const admin = toAdmin(readOk.find((c) => c.admin !== undefined)?.admin ?? user.admin);
  const pushes: PlannedPush[] = [];
  const unreadable: UnreadableCredential[] = [];
  for (const cred of credentials) {
    if (!cred.ok) {
      unreadable.push({ backupnum: cred.backupnum, reason: cred.error });
      continue;
    }
    if (!isCredentialSlot(cred.backupnum)) {
      unreadable.push({ backupnum: cred.backupnum, reason: `backupnum ${cred.backupnum} cannot be written` });
      continue;
    }
    try {
      const record = normaliseCredentialRecord(cred.backupnum, cred.record);
      pushes.push({
        backupnum: cred.backupnum,
        payload: { enrollid: user.enrollid, name, backupnum: cred.backupnum, admin, record },
      });
    } catch (err) {
      unreadable.push({ backupnum: cred.backupnum, reason: describeError(err) });
    }
  }
  return {
    kind: 'transfer',
    enrollid: user.enrollid,
    pushes,
    unreadable,
    deleteFromSource: move && pushes.length > 0 && unreadable.length === 0,
  };
}

/**
 * Plans a copy or move. Without `enrollIds` every source user is transferred (ascending enrollid);
 * with them, in the order asked, and ids the source does not hold are reported as not found.
 */
export function planTransfer(source: FetchedUser[], enrollIds: number[] | undefined, move: boolean): PlannedUser[] {
  const byId = new Map(source.map((u) => [u.enrollid, u]));
  const ids = enrollIds ?? [...byId.keys()].sort((a, b) => a - b);
  return ids.map((enrollid) => {
    const user = byId.get(enrollid);
    return user ? planUser(user, move) : { kind: 'not_found', enrollid };
  });
}

/** Groups roster rows per user, keeping only the users asked for (all when `enrollIds` is absent). */
export function selectRosterUsers<R extends { enrollid: number; backupnum: number; admin?: number; name?: string }>(
  rows: R[],
  enrollIds: number[] | undefined,
): Map<number, R[]> {
  const wanted = enrollIds ? new Set(enrollIds) : undefined;
  const out = new Map<number, R[]>();
  for (const row of rows) {
    if (wanted && !wanted.has(row.enrollid)) continue;
    const list = out.get(row.enrollid) ?? [];
    if (!list.some((r) => r.backupnum === row.backupnum)) list.push(row);
    out.set(row.enrollid, list);
  }
  return out;
}
