/** Shapes the contract's `records` of GET /api/device/:sn/users from the roster and the server's copy. */

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

/** One (enrollid, backupnum) row of the terminal's user list. */
export interface RosterRow {
  enrollid: number;
  backupnum: number;
  admin?: number;
  name?: string;
}

export interface UserRecord {
  enrollid: number;
  name?: string;
  aliasid?: string;
  backupnum: number;
  admin: number;
  record?: string | number;
}

function toInt(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) ? value : undefined;
  if (typeof value === 'string' && /^\s*-?\d+\s*$/.test(value)) return Number(value.trim());
  return undefined;
}

/**
 * The rows of a `getuserlist` operation's response, read leniently (terminals send `admin` and
 * `enrollid` as strings on some firmware). Undefined when the response carries no row list.
 */
export function readRosterRows(response: unknown): RosterRow[] | undefined {
  if (typeof response !== 'object' || response === null) return undefined;
  const rows = (response as { rows?: unknown }).rows;
  if (!Array.isArray(rows)) return undefined;
  const out: RosterRow[] = [];
  for (const row of rows as unknown[]) {
    if (typeof row !== 'object' || row === null) continue;
    const r = row as Record<string, unknown>;
    const enrollid = toInt(r.enrollid);
    const backupnum = toInt(r.backupnum);
    if (enrollid === undefined || backupnum === undefined) continue;
    const admin = toInt(r.admin);
    const name = typeof r.name === 'string' && r.name.length > 0 ? r.name : undefined;
    out.push({ enrollid, backupnum, ...(admin !== undefined && { admin }), ...(name !== undefined && { name }) });
  }
  return out;
}

/** `enrollid:backupnum` keys of the credentials a getuserlist read could not fetch (`infoFailed`). */
export function readInfoFailures(response: unknown): Map<string, string> {
  const out = new Map<string, string>();
  if (typeof response !== 'object' || response === null) return out;
  const failed = (response as { infoFailed?: unknown }).infoFailed;
  if (!Array.isArray(failed)) return out;
  for (const item of failed as unknown[]) {
    if (typeof item !== 'object' || item === null) continue;
    const f = item as Record<string, unknown>;
    const enrollid = toInt(f.enrollid);
    const backupnum = toInt(f.backupnum);
    if (enrollid === undefined || backupnum === undefined) continue;
    out.set(credentialKey(enrollid, backupnum), typeof f.error === 'string' ? f.error : 'not read');
  }
  return out;
}

export function credentialKey(enrollid: number, backupnum: number): string {
  return `${enrollid}:${backupnum}`;
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
