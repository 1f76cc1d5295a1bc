import { Inject, Injectable } from '@nestjs/common';
import { isCredentialSlot, Json, parseCommandReply, toBool, userListDone } from '@app/device-protocol';
import { ExchangeTimeoutError } from '../operation-errors';
import { DEVICE_USER_STORE, DeviceUserStore, RosterRow } from '../operation-ports';
import {
  deviceError,
  ExecutionContext,
  ExecutionResult,
  isBulkyCredential,
  OperationExecutor,
  OperationSpec,
} from './operation-executor';
import { credentialKey, toUserListResponse, UserListInfoFailure, UserListResult } from './user-list.result';

/** A terminal answering full pages forever must not keep an operation alive forever (40 rows a page). */
export const MAX_USER_LIST_PAGES = 2_500;

/** The flag's former payload key: operations stored before the rename still carry it. */
const LEGACY_TEMPLATES_KEY = 'includeInfo';

/** Whether the operation asks for each credential's template (`templates`, or the legacy key). */
function readTemplatesFlag(payload: Json): boolean {
  return toBool(payload.templates ?? payload[LEGACY_TEMPLATES_KEY]) === true;
}

/**
 * `getuserlist`: every page (stn:true, then stn:false until a short page), then with
 * `templates` one `getuserinfo` per row, one at a time, each credential written to the server's
 * copy as it arrives. A complete read replaces the server's roster of the terminal. Its response is
 * a `UserListResult` (read back with `userListResultOf`).
 */
@Injectable()
export class UserListExecutor implements OperationExecutor {
  constructor(@Inject(DEVICE_USER_STORE) private readonly users: DeviceUserStore) {}

  validate(spec: OperationSpec): string | undefined {
    for (const key of ['templates', LEGACY_TEMPLATES_KEY] as const) {
      const value = spec.payload[key];
      if (value !== undefined && toBool(value) === undefined) return `getuserlist: ${key} must be a boolean`;
    }
    return undefined;
  }

  async execute(ctx: ExecutionContext): Promise<ExecutionResult> {
    const rows = new Map<string, RosterRow>();
    let pages = 0;
    for (let stn = true; ; stn = false) {
      let reply: Json;
      try {
        ({ reply } = await ctx.exchange('getuserlist', { stn }, ctx.pageTimeoutMs));
      } catch (err) {
        // No answer to the first page: the dispatcher retries. Later: the list was cut short, and
        // a partial list must never pass for the terminal's roster.
        if (!(err instanceof ExchangeTimeoutError) || pages === 0) throw err;
        return {
          status: 'failed',
          lastError: `device_timeout: page ${pages + 1} not answered within ${err.timeoutMs} ms; ${rows.size} rows in ${pages} pages received (roster not replaced)`,
          response: { ret: 'getuserlist', result: false, pages, received: rows.size, ended: 'timeout' },
        };
      }
      const parsed = parseCommandReply('getuserlist', reply);
      if (!parsed.ok) return { status: 'failed', lastError: `invalid_reply: ${parsed.reason}`, response: { pages } };
      if (!parsed.value.success) {
        return { status: 'failed', lastError: deviceError(parsed.value.reason), response: { ...reply, pages } };
      }
      pages++;
      const packet = parsed.value.data;
      for (const row of packet.records) {
        rows.set(credentialKey(row.enrollid, row.backupnum), {
          enrollid: row.enrollid,
          backupnum: row.backupnum,
          ...(row.admin !== undefined ? { admin: row.admin } : {}),
        });
      }
      if (userListDone(packet)) break;
      if (pages >= MAX_USER_LIST_PAGES) {
        return {
          status: 'failed',
          lastError: `invalid_reply: more than ${MAX_USER_LIST_PAGES} pages`,
          response: { pages },
        };
      }
    }

    const templates = readTemplatesFlag(ctx.op.payload);
    const failures: UserListInfoFailure[] = [];
    let fetched = 0;
    if (templates) {
      for (const row of rows.values()) {
        const failure = await this.fetchInfo(ctx, row);
        if (failure) failures.push(failure);
        else fetched++;
      }
    }
    const roster = [...rows.values()];
    await this.users.replaceRoster(ctx.sn, roster);

    const result: UserListResult = {
      ret: 'getuserlist',
      result: true,
      count: roster.length,
      pages,
      rows: roster,
      ...(templates && { infoFetched: fetched, infoFailed: failures }),
    };
    return { status: 'success', response: toUserListResponse(result) };
  }

  /** Reads one credential; a terminal refusing one row does not fail the whole read. */
  private async fetchInfo(ctx: ExecutionContext, row: RosterRow): Promise<UserListInfoFailure | undefined> {
    const key = { enrollid: row.enrollid, backupnum: row.backupnum };
    if (!isCredentialSlot(row.backupnum)) return { ...key, error: 'not a credential slot' };
    const timeout = isBulkyCredential(row.backupnum) ? ctx.pageTimeoutMs : ctx.replyTimeoutMs;
    const { reply } = await ctx.exchange('getuserinfo', key, timeout);
    const parsed = parseCommandReply('getuserinfo', reply);
    if (!parsed.ok) return { ...key, error: `invalid_reply: ${parsed.reason}` };
    if (!parsed.value.success) return { ...key, error: deviceError(parsed.value.reason) };
    const info = parsed.value.data;
    if (info.name !== undefined) row.name = info.name;
    if (info.admin !== undefined) row.admin = info.admin;
    await this.users.upsertCredential(ctx.sn, {
      ...key,
      ...(info.name !== undefined ? { name: info.name } : {}),
      ...(info.admin !== undefined ? { admin: info.admin } : {}),
      ...(info.record !== undefined ? { record: info.record } : {}),
    });
    return undefined;
  }
}
