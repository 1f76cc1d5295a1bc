import type { Types } from 'mongoose';
import { OperationStatus } from './schemas/operation.schema';

/** An operation document as the repository returns it (lean). */
export interface OperationRecord {
  _id: Types.ObjectId;
  sn: string;
  type: string;
  payload: Record<string, unknown>;
  response?: Record<string, unknown>;
  status: OperationStatus;
  attemptCount: number;
  maxAttempts: number;
  lastError?: string;
  nextAttemptAt: Date;
  sentAt?: Date;
  completedAt?: Date;
  leaseOwner?: string;
  leaseUntil?: Date;
  parentId?: Types.ObjectId;
  dependsOn: Types.ObjectId[];
  depsPending: boolean;
  hasDependents?: boolean;
  group: boolean;
  requestedBy?: string;
  background?: boolean;
  wireCmd?: string;
  wirePayload?: Record<string, unknown>;
  createdAt: Date;
  updatedAt: Date;
}

/** What other modules and the HTTP API see of an operation. */
export interface OperationView {
  _id: string;
  sn: string;
  type: string;
  payload: Record<string, unknown>;
  response?: Record<string, unknown>;
  status: OperationStatus;
  attemptCount: number;
  maxAttempts: number;
  lastError?: string;
  parentId?: string;
  dependsOn: string[];
  requestedBy?: string;
  /** Housekeeping the server queued itself (runs after operations asked through the API). */
  background?: true;
  createdAt: Date;
  updatedAt: Date;
  sentAt?: Date;
  completedAt?: Date;
  nextAttemptAt?: Date;
}

export function toOperationView(rec: OperationRecord): OperationView {
  const view: OperationView = {
    _id: rec._id.toHexString(),
    sn: rec.sn,
    type: rec.type,
    payload: rec.payload ?? {},
    status: rec.status,
    attemptCount: rec.attemptCount,
    maxAttempts: rec.maxAttempts,
    dependsOn: (rec.dependsOn ?? []).map((id) => id.toHexString()),
    createdAt: rec.createdAt,
    updatedAt: rec.updatedAt,
  };
  if (rec.response !== undefined && rec.response !== null) view.response = rec.response;
  if (rec.lastError) view.lastError = rec.lastError;
  if (rec.parentId) view.parentId = rec.parentId.toHexString();
  if (rec.requestedBy) view.requestedBy = rec.requestedBy;
  if (rec.background === true) view.background = true;
  if (rec.sentAt) view.sentAt = rec.sentAt;
  if (rec.completedAt) view.completedAt = rec.completedAt;
  // A retry time only means something while the operation waits.
  if (rec.status === OperationStatus.Pending && rec.nextAttemptAt) view.nextAttemptAt = rec.nextAttemptAt;
  return view;
}

export function isFinished(status: OperationStatus): boolean {
  return status === OperationStatus.Success || status === OperationStatus.Failed || status === OperationStatus.Canceled;
}
