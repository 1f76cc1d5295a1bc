import { Inject, Injectable, Logger } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { ApiError, ContractError } from '@app/common';
import { normaliseCredentialRecord, toInt } from '@app/device-protocol';
import { operationsConfig } from '../config/operations.config';
import { DevicesService, StoredUsersService, type DeviceUserView } from '../devices';
import { diffRosters, rosterDigest, rosterFromCopy, RosterReaderService, type RosterRead } from '../device-groups';
import {
  credentialKey,
  OperationStatus,
  OperationsService,
  ParentOperationsService,
  type OperationView,
} from '../operations';
import { DeviceSyncRepository, SyncPlanRecord } from './device-sync.repository';
import type { ApplySyncDto, PlanSyncDto } from './dto/device-sync.dto';
import type { SyncItem } from './schemas/sync-item.schema';
import type { PlanCounts } from './schemas/sync-plan.schema';

export const DEVICE_SYNC_TYPE = 'device_sync';
/** An apply whose progress has not moved for this long lost its request: the reconciler resumes it. */
const RESUME_AFTER_MS = 60_000;
const PROGRESS_EVERY = 100;

type Push = SyncItem['pushes'][number];

export interface PlanView {
  _id: string;
  fromSn?: string;
  fromBackup: boolean;
  toSn: string;
  enrollIds?: number[];
  missing: number[];
  extra: number[];
  differing: { enrollid: number; backupnums: number[] }[];
  counts: PlanCounts;
  createdAt: Date;
}

export interface ApplyProgress {
  planId: string;
  toSn: string;
  deleteExtra: boolean;
  /** every step has been queued (false while queueing, or when a restart interrupted it) */
  queued: boolean;
  done: number;
  total: number;
  succeeded: number;
  failed: number;
  canceled: number;
}

function toPlanView(p: SyncPlanRecord): PlanView {
  return {
    _id: p._id.toHexString(),
    ...(p.fromSn !== undefined && { fromSn: p.fromSn }),
    fromBackup: p.fromBackup,
    toSn: p.toSn,
    ...(p.enrollIds && p.enrollIds.length > 0 && { enrollIds: p.enrollIds }),
    missing: p.missing,
    extra: p.extra,
    differing: p.differing,
    counts: p.counts,
    createdAt: p.createdAt,
  };
}

function offline(): ContractError {
  return new ContractError(409, { success: false, error: 'device_offline_or_not_registered' });
}

function readFailed(read: RosterRead): ApiError {
  return new ApiError(
    502,
    'device_command_failed',
    `Reading the users of ${read.sn} failed (${read.error ?? read.status})`,
    {
      ...(read.opId && { opId: read.opId }),
      status: 'failed',
    },
  );
}

function toAdmin(value: unknown): number {
  const n = toInt(value);
  return n !== undefined && n >= 0 && n <= 2 ? n : 0;
}

/**
 * Repair only what differs: a plan compares a fresh read of the target with a fresh read of the
 * source (or with the server's stored copy of the target: restore after a wipe), and an apply pushes
 * only the missing and differing users (deletes the extra ones when asked) as one parent operation.
 */
@Injectable()
export class DeviceSyncService {
  private readonly logger = new Logger('DeviceSync');

  constructor(
    private readonly repo: DeviceSyncRepository,
    private readonly rosters: RosterReaderService,
    private readonly operations: OperationsService,
    private readonly parents: ParentOperationsService,
    private readonly devices: DevicesService,
    private readonly deviceUsers: StoredUsersService,
    @Inject(operationsConfig.KEY) private readonly opsCfg: ConfigType<typeof operationsConfig>,
  ) {}

  async plan(dto: PlanSyncDto, requestedBy?: string): Promise<PlanView> {
    const fromBackup = dto.fromBackup === true;
    const sns = dto.fromSn !== undefined ? [dto.fromSn, dto.toSn] : [dto.toSn];
    for (const sn of sns) if (!(await this.devices.isOnline(sn))) throw offline();

    // The backup is the server's copy as it stood before this read refreshes it.
    const backup = fromBackup ? await this.deviceUsers.findBySn(dto.toSn) : undefined;
    const reads = await this.rosters.read(sns, {
      waitMs: this.opsCfg.waitTimeoutMs,
      templates: true,
      strict: true,
      ...(requestedBy && { requestedBy }),
    });
    for (const read of reads) {
      if (read.status === 'offline') throw offline();
      if (read.status !== 'read') throw readFailed(read);
    }
    const targetRead = reads.find((r) => r.sn === dto.toSn)!;
    const sourceRead = reads.find((r) => r.sn === dto.fromSn);
    const sourceUsers = backup ?? (await this.deviceUsers.findBySn(dto.fromSn!));
    const source = rosterFromCopy(sourceUsers, {
      onDeviceOnly: !fromBackup,
      ...(sourceRead && { unread: sourceRead.unread }),
    });
    const target = await this.rosters.current(dto.toSn, targetRead.unread);
    const diff = diffRosters(source, target, dto.enrollIds);

    const byId = new Map(sourceUsers.map((u) => [u.enrollid, u]));
    const items: Omit<SyncItem, 'planId' | 'state'>[] = [];
    let pushes = 0;
    let unpushable = 0;
    const pushItem = (enrollid: number, backupnums: number[] | undefined): void => {
      const user = byId.get(enrollid);
      const slots = backupnums ?? [...(source.get(enrollid)?.credentials.keys() ?? [])];
      const built = user ? this.pushesOf(user, slots, sourceRead?.unread) : { pushes: [], unpushable: slots.length };
      unpushable += built.unpushable;
      if (built.pushes.length === 0) return;
      pushes += built.pushes.length;
      items.push({ enrollid, kind: 'push', pushes: built.pushes });
    };
    for (const enrollid of diff.missing) pushItem(enrollid, undefined);
    for (const d of diff.differing) pushItem(d.enrollid, d.backupnums);
    for (const enrollid of diff.extra) items.push({ enrollid, kind: 'delete', pushes: [] });

    const plan = await this.repo.createPlan(
      {
        ...(dto.fromSn !== undefined && { fromSn: dto.fromSn }),
        fromBackup,
        toSn: dto.toSn,
        ...(dto.enrollIds && { enrollIds: dto.enrollIds }),
        missing: diff.missing,
        extra: diff.extra,
        differing: diff.differing,
        counts: {
          missing: diff.missing.length,
          extra: diff.extra.length,
          differing: diff.differing.length,
          pushes,
          unpushable,
        },
        targetDigest: rosterDigest(await this.rosters.current(dto.toSn)),
        ...(requestedBy && { requestedBy }),
      } as SyncPlanRecord,
      items,
    );
    return toPlanView(plan);
  }

  /** setuserinfo payloads of the given slots, as the source holds them (name and admin level kept). */
  private pushesOf(
    user: DeviceUserView,
    slots: number[],
    unread: ReadonlySet<string> | undefined,
  ): { pushes: Push[]; unpushable: number } {
    const pushes: Push[] = [];
    let unpushable = 0;
    for (const backupnum of slots) {
      const cred = user.credentials.find((c) => c.backupnum === backupnum);
      if (!cred || cred.record == null || unread?.has(credentialKey(user.enrollid, backupnum))) {
        unpushable++;
        continue;
      }
      try {
        pushes.push({
          enrollid: user.enrollid,
          name: user.name ?? '',
          backupnum,
          admin: toAdmin(user.admin),
          record: normaliseCredentialRecord(backupnum, cred.record),
        });
      } catch {
        unpushable++;
      }
    }
    return { pushes, unpushable };
  }

  async apply(dto: ApplySyncDto, requestedBy?: string) {
    const plan = await this.repo.findPlan(dto.planId);
    if (!plan) throw new ApiError(404, 'plan_not_found', 'No device-sync plan with this id');
    if (plan.applyOpId) {
      throw new ApiError(409, 'plan_already_applied', 'This plan was applied already', { opId: plan.applyOpId });
    }
    const toSn = plan.toSn;
    if (!(await this.devices.isOnline(toSn))) throw offline();
    // The roster (not the templates) is re-read: users or credentials added or removed since the plan.
    const [read] = await this.rosters.read([toSn], {
      waitMs: this.opsCfg.waitTimeoutMs,
      templates: false,
      strict: true,
      ...(requestedBy && { requestedBy }),
    });
    if (read.status === 'offline') throw offline();
    if (read.status !== 'read') throw readFailed(read);
    if (rosterDigest(await this.rosters.current(toSn)) !== plan.targetDigest) {
      throw new ApiError(409, 'plan_stale', `The users of ${toSn} changed since the plan was made; make a new plan`, {
        planId: plan._id.toHexString(),
      });
    }
    const deleteExtra = dto.deleteExtra === true;
    const total = plan.counts.pushes + (deleteExtra ? plan.counts.extra : 0);
    const planId = plan._id.toHexString();
    const parent = await this.parents.createParent(
      toSn,
      DEVICE_SYNC_TYPE,
      {
        planId,
        ...(plan.fromSn !== undefined && { fromSn: plan.fromSn }),
        fromBackup: plan.fromBackup,
        toSn,
        deleteExtra,
      },
      { ...(requestedBy && { requestedBy }) },
    );
    if (!(await this.repo.claimPlan(planId, parent._id))) {
      await this.parents.updateParent(parent._id, {
        status: 'failed',
        lastError: 'plan applied by another request',
      });
      const again = await this.repo.findPlan(planId);
      throw new ApiError(409, 'plan_already_applied', 'This plan was applied already', { opId: again?.applyOpId });
    }
    const progress: ApplyProgress = {
      planId,
      toSn,
      deleteExtra,
      queued: false,
      done: 0,
      total,
      succeeded: 0,
      failed: 0,
      canceled: 0,
    };
    await this.parents.updateParent(parent._id, { response: { ...progress } });
    await this.queueSteps(parent._id, progress, ['planned'], requestedBy);
    const current = await this.parents.findParent(parent._id);
    if (current) await this.reconcile(current);
    return { opId: parent._id, planId, toSn, total };
  }

  /** Queues every item not queued yet, then records that the apply is fully queued. */
  private async queueSteps(
    parentId: string,
    progress: ApplyProgress,
    states: ('planned' | 'queueing')[],
    requestedBy?: string,
  ): Promise<void> {
    const kinds: ('push' | 'delete')[] = progress.deleteExtra ? ['push', 'delete'] : ['push'];
    let sinceProgress = 0;
    const opts = { parentId, ...(requestedBy && { requestedBy }) };
    for (;;) {
      const item = await this.repo.claimItem(progress.planId, kinds, states);
      if (!item) break;
      if (item.kind === 'delete') {
        await this.operations.enqueue(progress.toSn, 'deleteuser', { enrollid: item.enrollid, backupnum: 13 }, opts);
      } else {
        for (const push of item.pushes) await this.operations.enqueue(progress.toSn, 'setuserinfo', { ...push }, opts);
      }
      await this.repo.markQueued(item._id);
      if (++sinceProgress >= PROGRESS_EVERY) {
        sinceProgress = 0;
        // Keeps updatedAt fresh: a live apply is not taken for an interrupted one.
        await this.parents.updateParent(parentId, { response: { ...progress } });
      }
    }
    await this.parents.updateParent(parentId, { response: { ...progress, queued: true } });
  }

  /** Progress from the steps; finishes the parent when all are done. Resumes an interrupted queueing. */
  async reconcile(parent: OperationView): Promise<boolean> {
    if (parent.status !== OperationStatus.Pending) return false;
    const progress = parent.response as ApplyProgress | undefined;
    if (!progress) {
      if (Date.now() - new Date(parent.createdAt).getTime() < RESUME_AFTER_MS) return false;
      const updated = await this.parents.updateParent(parent._id, {
        status: 'failed',
        lastError: 'apply interrupted before any step was queued; make a new plan',
      });
      return updated !== null;
    }
    if (!progress.queued) {
      if (Date.now() - new Date(parent.updatedAt).getTime() < RESUME_AFTER_MS) return false;
      this.logger.log(`Resuming device-sync ${parent._id} (queueing was interrupted)`);
      await this.queueSteps(parent._id, progress, ['planned', 'queueing'], parent.requestedBy);
      return false;
    }
    const children = await this.parents.findChildStatuses(parent._id);
    const count = (s: OperationStatus) => children.filter((c) => c.status === s).length;
    const next: ApplyProgress = {
      ...progress,
      total: Math.max(progress.total, children.length),
      succeeded: count(OperationStatus.Success),
      failed: count(OperationStatus.Failed),
      canceled: count(OperationStatus.Canceled),
      done: 0,
    };
    next.done = next.succeeded + next.failed + next.canceled;
    if (next.done < next.total) {
      if (next.done !== progress.done) await this.parents.updateParent(parent._id, { response: { ...next } });
      return false;
    }
    const ok = next.failed === 0 && next.canceled === 0;
    const updated = await this.parents.updateParent(parent._id, {
      response: { ...next },
      status: ok ? 'success' : 'failed',
      ...(!ok && { lastError: `${next.failed + next.canceled} of ${next.total} step(s) failed or were canceled` }),
    });
    return updated !== null;
  }
}
