import type { Json } from '@app/device-protocol';
import type { RosterRow } from '../operation-ports';
import { OperationStatus } from '../schemas/operation.schema';

/** A credential the read listed but could not fetch with `getuserinfo`, and why. */
export interface UserListInfoFailure {
  enrollid: number;
  backupnum: number;
  error: string;
}

/**
 * What a successful `getuserlist` operation read. Stored as the operation's `response` exactly in
 * this shape (GET /api/operations shows it), written by the executor and read back by
 * `userListResultOf`, the only reader.
 */
export interface UserListResult {
  ret: 'getuserlist';
  result: true;
  /** `rows.length` */
  count: number;
  pages: number;
  /** One row per (enrollid, backupnum), in the terminal's order. */
  rows: RosterRow[];
  /** With `templates` only: the credentials read, and those the terminal did not give. */
  infoFetched?: number;
  infoFailed?: UserListInfoFailure[];
}

export function credentialKey(enrollid: number, backupnum: number): string {
  return `${enrollid}:${backupnum}`;
}

/** The operation's stored `response` for a result. */
export function toUserListResponse(result: UserListResult): Json {
  return { ...result };
}

type Fields = Record<string, unknown>;

const isObject = (v: unknown): v is Fields => typeof v === 'object' && v !== null && !Array.isArray(v);
const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);

function readRow(v: unknown): RosterRow | undefined {
  if (!isObject(v) || !isInt(v.enrollid) || !isInt(v.backupnum)) return undefined;
  if (v.admin !== undefined && !isInt(v.admin)) return undefined;
  if (v.name !== undefined && typeof v.name !== 'string') return undefined;
  return {
    enrollid: v.enrollid,
    backupnum: v.backupnum,
    ...(v.admin !== undefined && { admin: v.admin }),
    ...(v.name !== undefined && { name: v.name }),
  };
}

function readFailure(v: unknown): UserListInfoFailure | undefined {
  if (!isObject(v) || !isInt(v.enrollid) || !isInt(v.backupnum) || typeof v.error !== 'string') return undefined;
  return { enrollid: v.enrollid, backupnum: v.backupnum, error: v.error };
}

function readAll<T>(list: unknown, read: (v: unknown) => T | undefined): T[] | undefined {
  if (!Array.isArray(list)) return undefined;
  const out: T[] = [];
  for (const item of list as unknown[]) {
    const value = read(item);
    if (value === undefined) return undefined;
    out.push(value);
  }
  return out;
}

/**
 * The result of a `getuserlist` operation, or undefined when the operation is not a finished,
 * successful read or its response is not one the executor wrote (the executor stores already
 * parsed numbers, so nothing is coerced here: a response that does not match is not trusted).
 */
export function userListResultOf(op: {
  type: string;
  status: OperationStatus;
  response?: Record<string, unknown> | null;
}): UserListResult | undefined {
  if (op.type !== 'getuserlist' || op.status !== OperationStatus.Success) return undefined;
  const r = op.response;
  if (!isObject(r) || r.ret !== 'getuserlist' || r.result !== true || !isInt(r.pages)) return undefined;
  const rows = readAll(r.rows, readRow);
  if (!rows || r.count !== rows.length) return undefined;
  const result: UserListResult = { ret: 'getuserlist', result: true, count: rows.length, pages: r.pages, rows };
  if (r.infoFetched === undefined && r.infoFailed === undefined) return result;
  const infoFailed = readAll(r.infoFailed, readFailure);
  if (!isInt(r.infoFetched) || !infoFailed) return undefined;
  return { ...result, infoFetched: r.infoFetched, infoFailed };
}

/** `credentialKey`s of the credentials the read could not fetch, with why (none without templates). */
export function unreadCredentials(result: UserListResult | undefined): Map<string, string> {
  return new Map((result?.infoFailed ?? []).map((f) => [credentialKey(f.enrollid, f.backupnum), f.error]));
}
