import type { PlannedUser } from './transfer-planner';

/** The per-user `steps` of the transfer answer, and the roll-up that finishes the parent operation. */

export type StepResult = 'success' | 'pending' | 'failed' | 'canceled' | 'not_found' | 'skipped';

export interface TransferStep {
  backupnum?: number;
  action: 'fetch' | 'push' | 'delete_from_source';
  opId?: string;
  result: StepResult;
  reason?: string;
}

export interface TransferUserResult {
  enrollid: number;
  steps: TransferStep[];
}

export interface QueuedOp {
  opId: string;
  status: string;
}

export interface QueuedUser {
  plan: PlannedUser;
  /** by backupnum */
  pushes: Map<number, QueuedOp>;
  delete?: QueuedOp;
}

/** An operation status as a step result: `sent` is still pending from the caller's point of view. */
export function stepResultOf(status: string): StepResult {
  switch (status) {
    case 'success':
      return 'success';
    case 'failed':
      return 'failed';
    case 'canceled':
      return 'canceled';
    default:
      return 'pending';
  }
}

function userSteps(user: QueuedUser): TransferStep[] {
  const plan = user.plan;
  if (plan.kind === 'not_found') return [{ action: 'fetch', result: 'not_found' }];
  const rows: { backupnum: number; reason?: string }[] = [
    ...plan.pushes.map((p) => ({ backupnum: p.backupnum })),
    ...plan.unreadable.map((u) => ({ backupnum: u.backupnum, reason: u.reason })),
  ].sort((a, b) => a.backupnum - b.backupnum);
  const steps: TransferStep[] = [];
  for (const row of rows) {
    if (row.reason !== undefined) {
      steps.push({ backupnum: row.backupnum, action: 'fetch', result: 'failed', reason: row.reason });
      continue;
    }
    steps.push({ backupnum: row.backupnum, action: 'fetch', result: 'success' });
    const op = user.pushes.get(row.backupnum);
    if (op) steps.push({ backupnum: row.backupnum, action: 'push', opId: op.opId, result: stepResultOf(op.status) });
  }
  if (user.delete) {
    steps.push({ action: 'delete_from_source', opId: user.delete.opId, result: stepResultOf(user.delete.status) });
  }
  return steps;
}

/**
 * The contract's `results`: per user, a fetch and a push step per credential, then the delete from
 * the source for a move. A move that cannot delete a user safely (a credential could not be read)
 * reports the delete as `skipped`.
 */
export function buildTransferResults(users: QueuedUser[], move: boolean): TransferUserResult[] {
  return users.map((user) => {
    const steps = userSteps(user);
    if (move && user.plan.kind === 'transfer' && !user.delete) {
      steps.push({
        action: 'delete_from_source',
        result: 'skipped',
        reason:
          user.plan.pushes.length === 0
            ? 'nothing could be copied'
            : 'not every credential could be read from the source',
      });
    }
    return { enrollid: user.plan.enrollid, steps };
  });
}

/** Step results refreshed from the current status of their operations (steps without an opId stay). */
export function refreshResults(
  results: TransferUserResult[],
  statusOf: (opId: string) => string | undefined,
): TransferUserResult[] {
  return results.map((user) => ({
    enrollid: user.enrollid,
    steps: user.steps.map((step) => {
      if (!step.opId) return step;
      const status = statusOf(step.opId);
      return status === undefined ? step : { ...step, result: stepResultOf(status) };
    }),
  }));
}

export interface TransferSummary {
  users: number;
  notFound: number;
  pushes: Record<'success' | 'pending' | 'failed' | 'canceled', number>;
  deletes: Record<'success' | 'pending' | 'failed' | 'canceled' | 'skipped', number>;
  /** users fully on the target (every push succeeded) */
  usersCopied: number;
  /** users removed from the source */
  usersMoved: number;
  finished: boolean;
  /** finished and nothing failed, was canceled or skipped */
  ok: boolean;
}

export function summarise(results: TransferUserResult[]): TransferSummary {
  const pushes = { success: 0, pending: 0, failed: 0, canceled: 0 };
  const deletes = { success: 0, pending: 0, failed: 0, canceled: 0, skipped: 0 };
  let notFound = 0;
  let fetchFailed = 0;
  let usersCopied = 0;
  let usersMoved = 0;
  for (const user of results) {
    let allPushed = true;
    let anyPush = false;
    for (const step of user.steps) {
      if (step.action === 'fetch') {
        if (step.result === 'not_found') notFound++;
        if (step.result === 'failed') fetchFailed++;
      } else if (step.action === 'push') {
        anyPush = true;
        if (step.result !== 'success') allPushed = false;
        if (step.result in pushes) pushes[step.result as keyof typeof pushes]++;
      } else {
        if (step.result in deletes) deletes[step.result as keyof typeof deletes]++;
        if (step.result === 'success') usersMoved++;
      }
    }
    if (anyPush && allPushed) usersCopied++;
  }
  const finished = pushes.pending === 0 && deletes.pending === 0;
  const ok =
    finished &&
    notFound === 0 &&
    fetchFailed === 0 &&
    pushes.failed + pushes.canceled === 0 &&
    deletes.failed + deletes.canceled + deletes.skipped === 0;
  return { users: results.length, notFound, pushes, deletes, usersCopied, usersMoved, finished, ok };
}
