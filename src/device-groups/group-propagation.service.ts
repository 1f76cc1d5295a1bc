import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { isCredentialSlot, normaliseCredentialRecord, toInt } from '@app/device-protocol';
import {
  DeviceConnectionRegistry,
  StoredUsersService,
  WHOLE_USER_BACKUPNUM,
  type TerminalUserReceivedEvent,
} from '../devices';
import {
  OperationEvents,
  OperationStatus,
  OperationQueriesService,
  OperationsService,
  ParentOperationsService,
  type OperationEventMap,
  type OperationRecord,
  type OperationView,
} from '../operations';
import { DeviceGroupRecord, DeviceGroupsRepository } from './device-groups.repository';
import { CallBatcher, describeError } from '@app/common';

export const PROPAGATION_TYPE = 'group_propagation';
/** Every step of a propagation is requested by this: its outcome never propagates again (no echo). */
export const PROPAGATION_REQUESTER = 'system:group-sync';
/** The transfer route's parent type (user-management): its pushes propagate from the target. */
const TRANSFER_TYPE = 'transfer';

export type PropagationEvent = 'senduser' | 'adduser' | 'transfer' | 'delete';

export interface CredentialPush {
  enrollid: number;
  name: string;
  backupnum: number;
  admin: number;
  record: string | number;
}

export interface PropagationProgress {
  groupId: string;
  event: PropagationEvent;
  enrollid: number;
  sourceSn: string;
  targets: string[];
  /** 'fetch': reading the credential from the source first (remote enrolment) */
  stage: 'fetch' | 'push';
  fetchOpId?: string;
  superseded?: boolean;
  done: number;
  total: number;
  finished: boolean;
}

function toAdmin(value: unknown): number {
  const n = toInt(value);
  return n !== undefined && n >= 0 && n <= 2 ? n : 0;
}

/**
 * Keeps the users of a group's members in step (groups with `syncUsers`): a user that appears on one
 * member (keypad enrolment pushed with senduser, remote enrolment through add-user, a transfer's push)
 * is pushed to every other member; an API delete is repeated on every other member. Each change is
 * one parent operation of type `group_propagation` whose steps are ordinary queued operations, so an
 * offline member gets its pushes when it reconnects.
 *
 * Ordering: per group, enroll id and slot, the change the server received last wins. An older change
 * arriving later is not propagated; a newer one cancels the older one's unsent pushes, and when an
 * older push already reached the newer change's source, the newest version is pushed there as well.
 */
@Injectable()
export class GroupPropagationService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('GroupPropagation');
  /** Changes are handled one at a time, in arrival order, so the newest-wins marks see them in order. */
  private chain: Promise<void> = Promise.resolve();
  /** Types of recently seen parents: the steps of one transfer or sync finish by the thousand. */
  private readonly parentTypes = new Map<string, string | null>();
  /**
   * The group of each terminal asked about, gathered while the previous lookup is in the database:
   * every successful add-user asks, so many finishing at once cost one read, not one each.
   */
  private readonly groupLookups = new CallBatcher<string, DeviceGroupRecord | null>(async (sns) => {
    const bySn = await this.repo.findBySns(sns);
    return sns.map((sn) => bySn.get(sn) ?? null);
  });

  constructor(
    private readonly repo: DeviceGroupsRepository,
    private readonly operations: OperationsService,
    private readonly parents: ParentOperationsService,
    private readonly queries: OperationQueriesService,
    private readonly deviceUsers: StoredUsersService,
    private readonly registry: DeviceConnectionRegistry,
    private readonly events: OperationEvents,
  ) {}

  onApplicationBootstrap(): void {
    this.registry.on('userReceived', this.onUserReceived);
    this.events.on('finished', this.onFinished);
  }

  async onApplicationShutdown(): Promise<void> {
    this.registry.off('userReceived', this.onUserReceived);
    this.events.off('finished', this.onFinished);
    await this.chain;
  }

  /** Resolves when every change received so far has been handled (tests, benchmarks). */
  idle(): Promise<void> {
    return this.chain;
  }

  private enqueueWork(what: string, work: () => Promise<void>): void {
    this.chain = this.chain.then(work).catch((err: unknown) => {
      this.logger.warn(`Propagation of ${what} failed: ${describeError(err)}`);
    });
  }

  private readonly onUserReceived = (e: TerminalUserReceivedEvent): void => {
    if (e.backupnum === undefined || e.record === undefined || !isCredentialSlot(e.backupnum)) return;
    const backupnum = e.backupnum;
    const record = e.record;
    this.enqueueWork(`senduser ${e.sn}/${e.enrollid}`, async () => {
      const group = await this.syncingGroup(e.sn);
      if (!group) return;
      const stored = await this.deviceUsers.find(e.sn, e.enrollid);
      await this.propagatePush(group, {
        event: 'senduser',
        sourceSn: e.sn,
        receivedAt: e.receivedAt,
        push: {
          enrollid: e.enrollid,
          name: e.name ?? stored?.name ?? '',
          admin: toAdmin(e.admin ?? stored?.admin),
          backupnum,
          record: normaliseCredentialRecord(backupnum, record),
        },
      });
    });
  };

  private readonly onFinished = (...[op]: OperationEventMap['finished']): void => {
    if (op.group) return;
    if (op.requestedBy === PROPAGATION_REQUESTER) {
      // A step of ours: only the remote-enrolment read moves its propagation on.
      if (op.type === 'getuserinfo' && op.parentId) {
        const parentId = op.parentId.toHexString();
        this.enqueueWork(`read ${parentId}`, () => this.continueAfterFetch(parentId));
      }
      return;
    }
    if (op.status !== OperationStatus.Success) return;
    const what = `${op.type} ${op.sn}`;
    if (op.type === 'adduserinfo') {
      // Looked up now, not when the chain gets there: lookups of add-users finishing together share one read.
      const group = this.syncingGroup(op.sn);
      group.catch(() => undefined);
      this.enqueueWork(what, () => this.afterAddUser(op, group));
    } else if (op.type === 'setuserinfo' && op.parentId) this.enqueueWork(what, () => this.afterTransferPush(op));
    else if (op.type === 'deleteuser' && !op.parentId) this.enqueueWork(what, () => this.afterApiDelete(op));
  };

  private async syncingGroup(sn: string): Promise<DeviceGroupRecord | null> {
    const group = await this.groupLookups.add(sn);
    return group?.syncUsers ? group : null;
  }

  /**
   * Remote enrolment succeeded: read the captured credential from the terminal, then push it.
   * `syncing`: the terminal's syncing group, looked up when the operation finished.
   */
  private async afterAddUser(op: OperationRecord, syncing: Promise<DeviceGroupRecord | null>): Promise<void> {
    const group = await syncing;
    if (!group) return;
    const enrollid = toInt(op.payload.enrollid);
    const backupnum = toInt(op.payload.backupnum);
    if (enrollid === undefined || backupnum === undefined) return;
    const targets = group.sns.filter((sn) => sn !== op.sn);
    if (targets.length === 0) return;
    const parent = await this.createParent(group, 'adduser', op.sn, enrollid, op.completedAt ?? new Date(), targets);
    await this.operations.enqueue(
      op.sn,
      'getuserinfo',
      { enrollid, backupnum },
      { parentId: parent._id, requestedBy: PROPAGATION_REQUESTER },
    );
  }

  /** The source answered the read: push what it holds (the server's copy was refreshed by the read). */
  async continueAfterFetch(parentId: string): Promise<void> {
    const parent = await this.parents.findParent(parentId);
    if (!parent || parent.type !== PROPAGATION_TYPE || parent.status !== OperationStatus.Pending) return;
    const progress = parent.response as PropagationProgress | undefined;
    if (!progress || progress.stage !== 'fetch') return;
    const [step] = await this.parents.findChildStatuses(parentId);
    const fetch = step ? await this.queries.findById(step._id) : null;
    if (!fetch || fetch.status === OperationStatus.Pending || fetch.status === OperationStatus.Sent) return;
    if (fetch.status !== OperationStatus.Success) {
      await this.parents.updateParent(parentId, {
        response: { ...progress, finished: true },
        status: 'failed',
        lastError: `the credential could not be read from ${progress.sourceSn}: ${fetch.lastError ?? fetch.status}`,
      });
      return;
    }
    const backupnum = toInt(fetch.payload.backupnum) ?? -1;
    const user = await this.deviceUsers.find(progress.sourceSn, progress.enrollid);
    const cred = user?.credentials.find((c) => c.backupnum === backupnum);
    if (!user || cred?.record === undefined || cred.record === null) {
      await this.parents.updateParent(parentId, {
        response: { ...progress, finished: true },
        status: 'failed',
        lastError: `${progress.sourceSn} sent no record for ${progress.enrollid}/${backupnum}`,
      });
      return;
    }
    const group = await this.repo.findById(progress.groupId);
    if (!group) return;
    await this.queuePushes(
      group,
      parent,
      { ...progress, fetchOpId: fetch._id },
      new Date(fetch.completedAt ?? Date.now()),
      {
        enrollid: progress.enrollid,
        name: user.name ?? '',
        admin: toAdmin(user.admin),
        backupnum,
        record: normaliseCredentialRecord(backupnum, cred.record),
      },
    );
  }

  /** A transfer pushed a credential to a member: the other members get it too (not the transfer's source). */
  private async afterTransferPush(op: OperationRecord): Promise<void> {
    const parentId = op.parentId!.toHexString();
    let type = this.parentTypes.get(parentId);
    const parent = type === undefined || type === TRANSFER_TYPE ? await this.parents.findParent(parentId) : null;
    if (type === undefined) {
      type = parent?.type ?? null;
      if (this.parentTypes.size >= 1_000) this.parentTypes.clear();
      this.parentTypes.set(parentId, type);
    }
    if (!parent || type !== TRANSFER_TYPE) return;
    const group = await this.syncingGroup(op.sn);
    if (!group) return;
    const p = op.payload;
    const enrollid = toInt(p.enrollid);
    const backupnum = toInt(p.backupnum);
    if (
      enrollid === undefined ||
      backupnum === undefined ||
      (typeof p.record !== 'string' && typeof p.record !== 'number')
    )
      return;
    const fromSn = typeof parent.payload.fromSn === 'string' ? parent.payload.fromSn : undefined;
    await this.propagatePush(group, {
      event: 'transfer',
      sourceSn: op.sn,
      receivedAt: op.completedAt ?? new Date(),
      exclude: fromSn ? [fromSn] : [],
      push: {
        enrollid,
        name: typeof p.name === 'string' ? p.name : '',
        admin: toAdmin(p.admin),
        backupnum,
        record: normaliseCredentialRecord(backupnum, p.record),
      },
    });
  }

  /** A user deleted through the API from one member goes from every member. */
  private async afterApiDelete(op: OperationRecord): Promise<void> {
    if (toInt(op.payload.backupnum) !== WHOLE_USER_BACKUPNUM) return;
    const enrollid = toInt(op.payload.enrollid);
    if (enrollid === undefined) return;
    const group = await this.syncingGroup(op.sn);
    if (!group) return;
    const targets = group.sns.filter((sn) => sn !== op.sn);
    if (targets.length === 0) return;
    const at = op.completedAt ?? new Date();
    // Pushes of this user not yet sent would bring it back: they are canceled.
    for (const mark of await this.repo.takeMarksOfUser(group._id, enrollid, at)) {
      await this.cancelOpenSteps(mark.propagationId);
    }
    const parent = await this.createParent(group, 'delete', op.sn, enrollid, at, targets, 'push');
    for (const sn of targets) {
      await this.operations.enqueue(
        sn,
        'deleteuser',
        { enrollid, backupnum: WHOLE_USER_BACKUPNUM },
        { parentId: parent._id, requestedBy: PROPAGATION_REQUESTER },
      );
    }
  }

  private async propagatePush(
    group: DeviceGroupRecord,
    input: { event: PropagationEvent; sourceSn: string; receivedAt: Date; push: CredentialPush; exclude?: string[] },
  ): Promise<void> {
    const targets = group.sns.filter((sn) => sn !== input.sourceSn && !(input.exclude ?? []).includes(sn));
    if (targets.length === 0) return;
    const parent = await this.createParent(
      group,
      input.event,
      input.sourceSn,
      input.push.enrollid,
      input.receivedAt,
      targets,
      'push',
    );
    await this.queuePushes(
      group,
      parent,
      parent.response as unknown as PropagationProgress,
      input.receivedAt,
      input.push,
    );
  }

  /** Claims "newest" for the credential, then queues one setuserinfo per target. */
  private async queuePushes(
    group: DeviceGroupRecord,
    parent: OperationView,
    progress: PropagationProgress,
    receivedAt: Date,
    push: CredentialPush,
  ): Promise<void> {
    const previous = await this.repo.claimNewest({
      groupId: group._id,
      enrollid: push.enrollid,
      backupnum: push.backupnum,
      receivedAt,
      sourceSn: progress.sourceSn,
      propagationId: parent._id,
    });
    if (previous === 'older') {
      await this.parents.updateParent(parent._id, {
        response: { ...progress, stage: 'push', superseded: true, total: 0, done: 0, finished: true },
        status: 'success',
      });
      return;
    }
    const targets = [...progress.targets];
    if (previous && previous.propagationId !== parent._id) {
      const reached = await this.cancelOpenSteps(previous.propagationId);
      // The older version reached this change's source, possibly after the newer one was enrolled
      // there and before its senduser arrived: the source gets the newest version too.
      if (reached.includes(progress.sourceSn)) targets.push(progress.sourceSn);
    }
    // Recorded first: a step finishing before the last one is queued must not finish the parent.
    await this.parents.updateParent(parent._id, {
      response: { ...progress, stage: 'push', total: targets.length, done: 0 },
    });
    for (const sn of targets) {
      await this.operations.enqueue(
        sn,
        'setuserinfo',
        { ...push },
        {
          parentId: parent._id,
          requestedBy: PROPAGATION_REQUESTER,
        },
      );
    }
  }

  /**
   * Cancels the unsent steps of a propagation; returns the terminals its steps already reached or
   * are reaching (sent or succeeded): there the older version may have landed after a newer local one.
   */
  private async cancelOpenSteps(propagationId: string): Promise<string[]> {
    const reached: string[] = [];
    for (const child of await this.parents.findChildStatuses(propagationId)) {
      if (child.status === OperationStatus.Pending) {
        const canceled = await this.operations.cancel(child._id).then(
          () => true,
          () => false,
        );
        if (canceled) continue;
      } else if (child.status !== OperationStatus.Sent && child.status !== OperationStatus.Success) continue;
      const op = await this.queries.findById(child._id);
      if (op && (op.status === OperationStatus.Sent || op.status === OperationStatus.Success)) reached.push(op.sn);
    }
    return reached;
  }

  private async createParent(
    group: DeviceGroupRecord,
    event: PropagationEvent,
    sourceSn: string,
    enrollid: number,
    receivedAt: Date,
    targets: string[],
    stage: 'fetch' | 'push' = 'fetch',
  ): Promise<OperationView> {
    const groupId = group._id.toHexString();
    const parent = await this.parents.createParent(
      sourceSn,
      PROPAGATION_TYPE,
      { groupId, event, enrollid, sourceSn, receivedAt: receivedAt.toISOString(), targets },
      { requestedBy: PROPAGATION_REQUESTER },
    );
    const progress: PropagationProgress = {
      groupId,
      event,
      enrollid,
      sourceSn,
      targets,
      stage,
      done: 0,
      total: stage === 'push' ? targets.length : 0,
      finished: false,
    };
    const response = progress as unknown as Record<string, unknown>;
    // Stored at once: the reconciler tells a propagation being set up from one whose handler died.
    await this.parents.updateParent(parent._id, { response });
    return { ...parent, response };
  }

  /**
   * Brings one propagation up to date: counts its finished pushes and finishes it when all are.
   * Returns true when it was finished.
   */
  async reconcile(parent: OperationView): Promise<boolean> {
    if (parent.status !== OperationStatus.Pending) return false;
    const progress = parent.response as PropagationProgress | undefined;
    if (!progress) return this.recoverUnrecorded(parent);
    if (progress.stage === 'fetch') {
      // Through the chain, so it never runs twice at once with the handler of the read's end.
      this.enqueueWork(`read ${parent._id}`, () => this.continueAfterFetch(parent._id));
      return false;
    }
    const children = (await this.parents.findChildStatuses(parent._id)).filter((c) => c._id !== progress.fetchOpId);
    const total = Math.max(progress.total, children.length);
    const finished = children.filter((c) => c.status !== OperationStatus.Pending && c.status !== OperationStatus.Sent);
    const next: PropagationProgress = { ...progress, total, done: finished.length, finished: false };
    if (finished.length < total || total === 0) {
      if (next.done !== progress.done) await this.parents.updateParent(parent._id, { response: { ...next } });
      return false;
    }
    const failed = finished.filter((c) => c.status === OperationStatus.Failed).length;
    const canceled = finished.filter((c) => c.status === OperationStatus.Canceled).length;
    const ok = failed === 0;
    const updated = await this.parents.updateParent(parent._id, {
      response: { ...next, finished: true, ...(canceled > 0 && { canceled }) },
      status: ok ? 'success' : 'failed',
      ...(!ok && { lastError: `${failed} of ${total} push(es) failed` }),
    });
    return updated !== null;
  }

  /**
   * A parent whose handler died before recording its progress: failed when nothing was queued,
   * otherwise counted from the steps that were.
   */
  private async recoverUnrecorded(parent: OperationView): Promise<boolean> {
    if (Date.now() - new Date(parent.createdAt).getTime() < 120_000) return false;
    const children = await this.parents.findChildStatuses(parent._id);
    if (children.length === 0) {
      const updated = await this.parents.updateParent(parent._id, {
        status: 'failed',
        lastError: 'propagation interrupted before any push was queued',
      });
      return updated !== null;
    }
    const p = parent.payload;
    const progress: PropagationProgress = {
      groupId: String(p.groupId),
      event: p.event as PropagationEvent,
      enrollid: Number(p.enrollid),
      sourceSn: String(p.sourceSn),
      targets: Array.isArray(p.targets) ? (p.targets as string[]) : [],
      stage: 'push',
      done: 0,
      total: children.length,
      finished: false,
    };
    return this.reconcile({ ...parent, response: progress as unknown as Record<string, unknown> });
  }
}
