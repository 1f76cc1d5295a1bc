/** Shapes the contract's `records` of GET /api/device/:sn/users from the roster and the server's copy. */
import { credentialKey, type RosterRow } from '../operations';

export interface StoredCredential {
  backupnum: number;
  record?: string | number | null;
}

export interface StoredUser {
  enrollid: number;
  name?: string | null;
  aliasid?: string | null;
  admin?: number | null;
  credentials?: StoredCredential[];
}

export interface UserRecord {
  enrollid: number;
  name?: string;
  aliasid?: string;
  backupnum: number;
  admin: number;
  record?: string | number;
}

function rowsFromStore(stored: StoredUser[]): RosterRow[] {
  const rows: RosterRow[] = [];
  for (const user of [...stored].sort((a, b) => a.enrollid - b.enrollid)) {
    for (const cred of [...(user.credentials ?? [])].sort((a, b) => a.backupnum - b.backupnum)) {
      rows.push({ enrollid: user.enrollid, backupnum: cred.backupnum });
    }
  }
  return rows;
}

/**
 * One record per credential row, in the terminal's order. The name prefers the terminal's row (the
 * fresher value), `aliasid` only exists on the server, `record` comes from the server's copy that the
 * read just refreshed and is left out when templates were not asked for or could not be read this
 * time (`unread`: an older copy is not passed off as the terminal's current one).
 */
export function toUserRecords(
  rows: RosterRow[] | undefined,
  stored: StoredUser[],
  templates: boolean,
  unread: ReadonlyMap<string, unknown> = new Map(),
): UserRecord[] {
  const byId = new Map(stored.map((u) => [u.enrollid, u]));
  return (rows ?? rowsFromStore(stored)).map((row) => {
    const user = byId.get(row.enrollid);
    const name = row.name ?? user?.name ?? undefined;
    const aliasid = user?.aliasid ?? undefined;
    const admin = row.admin ?? user?.admin ?? 0;
    const record =
      templates && !unread.has(credentialKey(row.enrollid, row.backupnum))
        ? (user?.credentials?.find((c) => c.backupnum === row.backupnum)?.record ?? undefined)
        : undefined;
    const out: UserRecord = {
      enrollid: row.enrollid,
      ...(name !== undefined && { name }),
      ...(aliasid !== undefined && { aliasid }),
      backupnum: row.backupnum,
      admin,
      ...(record !== undefined && { record }),
    };
    return out;
  });
}
