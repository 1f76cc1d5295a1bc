import { Inject, Injectable, Logger } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { ApiError, describeError } from '@app/common';
import { BACKUPNUM, isCredentialSlot } from '@app/device-protocol';
import { operationsConfig } from '../config/operations.config';
import { DevicesService, StoredUsersService, type DeviceUserView } from '../devices';
import {
  credentialKey,
  deviceOffline,
  OperationStatus,
  OperationsService,
  OperationWaitsService,
  ParentOperationsService,
  unreadCredentials,
  userListResultOf,
  type OperationView,
  type RosterRow,
} from '../operations';
import { commandFailed } from './device-command-errors';
import type { TransferUsersDto } from './dto/transfer-users.dto';
import { FetchedCredential, FetchedUser, planTransfer, PlannedUser, selectRosterUsers } from './transfer-planner';
import {
  buildTransferResults,
  QueuedUser,
  refreshResults,
  summarise,
  TransferSummary,
  TransferUserResult,
} from './transfer-progress';

export const TRANSFER_TYPE = 'transfer';
export interface TransferAnswer {
  fromSn: string;
  toSn: string;
  /** the parent operation: GET /api/operations/:id shows the progress */
  opId: string;
  results: TransferUserResult[];
}

/** What the parent operation's `response` holds while the transfer runs and once it finished. */
export interface TransferProgress {
  fromSn: string;
  toSn: string;
  deleteFromSource: boolean;
  results: TransferUserResult[];
  summary: TransferSummary;
}

function describeProblems(summary: TransferSummary): string {
  const parts: string[] = [];
  if (summary.notFound) parts.push(`${summary.notFound} user(s) not found on the source`);
  const failedPushes = summary.pushes.failed + summary.pushes.canceled;
  if (failedPushes) parts.push(`${failedPushes} push(es) to the target failed`);
  const keptDeletes = summary.deletes.failed + summary.deletes.canceled + summary.deletes.skipped;
  if (keptDeletes) parts.push(`${keptDeletes} user(s) kept on the source`);
  return parts.length > 0 ? parts.join('; ') : 'some credentials could not be read from the source';
}

/**
 * Copy or move users between terminals: a parent `transfer` operation whose children read the
 * source, push every credential to the target (`setuserinfo`) and, for a move, delete each user from
 * the source only after the target confirmed all of that user's credentials (`dependsOn`).
 */
@Injectable()
export class TransferService {
  private readonly logger = new Logger('TransferService');

  constructor(
    private readonly operations: OperationsService,
    private readonly waits: OperationWaitsService,
    private readonly parents: ParentOperationsService,
    private readonly devices: DevicesService,
    private readonly deviceUsers: StoredUsersService,
    @Inject(operationsConfig.KEY) private readonly opsCfg: ConfigType<typeof operationsConfig>,
  ) {}

  async transfer(dto: TransferUsersDto, requestedBy?: string): Promise<TransferAnswer> {
    const { fromSn, toSn, deleteFromSource } = dto;
    const [source, target] = await Promise.all([this.devices.findBySn(fromSn), this.devices.findBySn(toSn)]);
    if (!source || !(await this.devices.isOnline(fromSn))) throw deviceOffline();
    if (!target) {
      throw new ApiError(404, 'device_not_found', `Target terminal ${toSn} is not registered`, { sn: toSn });
    }

    const parent = await this.parents.createParent(
      fromSn,
      TRANSFER_TYPE,
      { fromSn, toSn, enrollIds: dto.enrollIds ?? null, deleteFromSource },
      { requestedBy },
    );
    const deadline = Date.now() + this.opsCfg.waitTimeoutMs;
    try {
      const fetched = await this.fetchSource(parent._id, fromSn, dto.enrollIds, deadline, requestedBy);
      const plan = planTransfer(fetched, dto.enrollIds, deleteFromSource);
      const queued = await this.queue(parent._id, plan, fromSn, toSn, requestedBy);
      const results = buildTransferResults(queued, deleteFromSource);
      await this.record(parent._id, { fromSn, toSn, deleteFromSource, results, summary: summarise(results) });
      return { fromSn, toSn, opId: parent._id, results };
    } catch (err) {
      const reason = describeError(err);
      await this.parents
        .updateParent(parent._id, { status: 'failed', lastError: `transfer not started: ${reason}` })
        .catch((e: unknown) => this.logger.warn(`Transfer ${parent._id} not marked failed: ${String(e)}`));
      throw err;
    }
  }

  /**
   * Brings one transfer up to date (TransferReconciler calls it): refreshes each step from its
   * operation and finishes the parent once every child finished; a transfer interrupted before it
   * was planned is failed. Returns true when the parent was finished.
   */
  async reconcile(parent: OperationView): Promise<boolean> {
    if (parent.status !== OperationStatus.Pending) return false;
    const progress = parent.response as Partial<TransferProgress> | undefined;
    if (!progress?.results) {
      // Planned inside the HTTP request; a parent without results past that window lost its request.
      const age = Date.now() - new Date(parent.createdAt).getTime();
      if (age < this.opsCfg.waitTimeoutMs * 2 + 60_000) return false;
      await this.parents.updateParent(parent._id, {
        status: 'failed',
        lastError: 'transfer interrupted while reading the source; nothing was pushed or deleted',
      });
      return true;
    }
    const children = await this.parents.findChildStatuses(parent._id);
    const statuses = new Map<string, string>(children.map((c) => [c._id, c.status]));
    const results = refreshResults(progress.results, (id) => statuses.get(id));
    const summary = summarise(results);
    const next: TransferProgress = {
      fromSn: progress.fromSn ?? String(parent.payload.fromSn),
      toSn: progress.toSn ?? String(parent.payload.toSn),
      deleteFromSource: progress.deleteFromSource ?? parent.payload.deleteFromSource === true,
      results,
      summary,
    };
    if (!summary.finished) {
      if (JSON.stringify(progress.summary) !== JSON.stringify(summary)) await this.record(parent._id, next);
      return false;
    }
    return this.record(parent._id, next);
  }

  /** Stores the progress; a finished transfer also finishes its parent operation. */
  private async record(parentId: string, progress: TransferProgress): Promise<boolean> {
    const response = progress as unknown as Record<string, unknown>;
    if (!progress.summary.finished) {
      await this.parents.updateParent(parentId, { response });
      return false;
    }
    const updated = await this.parents.updateParent(parentId, {
      response,
      status: progress.summary.ok ? 'success' : 'failed',
      ...(!progress.summary.ok && { lastError: describeProblems(progress.summary) }),
    });
    return updated !== null;
  }

  /** Reads the users to transfer from the source, with every credential's record. */
  private async fetchSource(
    parentId: string,
    sn: string,
    enrollIds: number[] | undefined,
    deadline: number,
    requestedBy?: string,
  ): Promise<FetchedUser[]> {
    const opts = { requireOnline: true, parentId, requestedBy };
    // All users: one operation reads everything. Some users: the roster, then only their credentials.
    const list = await this.waits.enqueueAndWait(
      sn,
      'getuserlist',
      { templates: enrollIds === undefined },
      { ...opts, waitMs: Math.max(1, deadline - Date.now()) },
    );
    if (list.status !== OperationStatus.Success) throw commandFailed(list, `Reading the users of ${sn}`);
    const result = userListResultOf(list);
    const selected = selectRosterUsers(result?.rows ?? [], enrollIds);
    const failures =
      enrollIds === undefined
        ? unreadCredentials(result)
        : await this.fetchCredentials(parentId, sn, selected, deadline, requestedBy);
    const stored = new Map((await this.deviceUsers.findBySn(sn)).map((u) => [u.enrollid, u]));
    return [...selected].map(([enrollid, userRows]) =>
      toFetchedUser(enrollid, userRows, stored.get(enrollid), failures),
    );
  }

  /** One getuserinfo child per credential; returns the credentials that could not be read, with why. */
  private async fetchCredentials(
    parentId: string,
    sn: string,
    selected: Map<number, RosterRow[]>,
    deadline: number,
    requestedBy?: string,
  ): Promise<Map<string, string>> {
    const failures = new Map<string, string>();
    const pending: { key: string; op: OperationView }[] = [];
    for (const rows of selected.values()) {
      for (const row of rows) {
        const key = credentialKey(row.enrollid, row.backupnum);
        if (!isCredentialSlot(row.backupnum)) {
          failures.set(key, `backupnum ${row.backupnum} is not a credential slot`);
          continue;
        }
        const op = await this.operations.enqueue(
          sn,
          'getuserinfo',
          { enrollid: row.enrollid, backupnum: row.backupnum },
          { parentId, requestedBy },
        );
        pending.push({ key, op });
      }
    }
    for (const { key, op } of pending) {
      // Rejects with the contract's 504 (that operation's id) once the request's time is up.
      const done = await this.waits.waitFor(op._id, Math.max(1, deadline - Date.now()));
      if (done.status !== OperationStatus.Success) failures.set(key, done.lastError ?? done.status);
    }
    return failures;
  }

  /** Creates the push and delete children; the target's queue takes the pushes in order. */
  private async queue(
    parentId: string,
    plan: PlannedUser[],
    fromSn: string,
    toSn: string,
    requestedBy?: string,
  ): Promise<QueuedUser[]> {
    const queued: QueuedUser[] = [];
    for (const user of plan) {
      const entry: QueuedUser = { plan: user, pushes: new Map() };
      queued.push(entry);
      if (user.kind !== 'transfer') continue;
      for (const push of user.pushes) {
        const op = await this.operations.enqueue(toSn, 'setuserinfo', push.payload, { parentId, requestedBy });
        entry.pushes.set(push.backupnum, { opId: op._id, status: op.status });
      }
      if (user.deleteFromSource) {
        const op = await this.operations.enqueue(
          fromSn,
          'deleteuser',
          { enrollid: user.enrollid, backupnum: BACKUPNUM.WHOLE_USER },
          { parentId, requestedBy, dependsOn: [...entry.pushes.values()].map((p) => p.opId) },
        );
        entry.delete = { opId: op._id, status: op.status };
      }
    }
    return queued;
  }
}

function toFetchedUser(
  enrollid: number,
  rows: RosterRow[],
  stored: DeviceUserView | undefined,
  failures: ReadonlyMap<string, string>,
): FetchedUser {
  const credentials: FetchedCredential[] = rows.map((row) => {
    const failure = failures.get(credentialKey(enrollid, row.backupnum));
    if (failure !== undefined) return { backupnum: row.backupnum, ok: false, error: failure };
    const record = stored?.credentials.find((c) => c.backupnum === row.backupnum)?.record;
    if (record === undefined || record === null) {
      return { backupnum: row.backupnum, ok: false, error: 'the terminal sent no record' };
    }
    return { backupnum: row.backupnum, ok: true, record };
  });
  const name = stored?.name ?? rows.find((r) => r.name !== undefined)?.name;
  const admin = stored?.admin ?? rows.find((r) => r.admin !== undefined)?.admin;
  return {
    enrollid,
    ...(name !== undefined && { name }),
    ...(admin !== undefined && { admin }),
    credentials,
  };
}
