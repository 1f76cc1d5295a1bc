import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { HydratedDocument, Schema as MongooseSchema, Types } from 'mongoose';

/** Stored values are the wire values of the HTTP contract. */
export enum OperationStatus {
  Pending = 'pending',
  Sent = 'sent',
  Success = 'success',
  Failed = 'failed',
  Canceled = 'canceled',
}

export const OPERATION_STATUSES: readonly OperationStatus[] = Object.values(OperationStatus);
export const FINISHED_STATUSES: readonly OperationStatus[] = [
  OperationStatus.Success,
  OperationStatus.Failed,
  OperationStatus.Canceled,
];

export const OPERATION_MODEL = 'Operation';

/**
 * One command (or multi-exchange job) for one terminal. `minimize: false` keeps an empty
 * `payload: {}` in the document, as the contract shows it.
 */
@Schema({ collection: 'operations', timestamps: true, minimize: false, versionKey: false })
export class Operation {
  @Prop({ required: true })
  sn: string;

  /** The contract's operation type (e.g. `adduserinfo`); the wire command may differ (`wireCmd`). */
  @Prop({ required: true })
  type: string;

  @Prop({ type: MongooseSchema.Types.Mixed, required: true, default: () => ({}) })
  payload: Record<string, unknown>;

  @Prop({ type: MongooseSchema.Types.Mixed })
  response?: Record<string, unknown>;

  @Prop({ type: String, enum: OPERATION_STATUSES, required: true, default: OperationStatus.Pending })
  status: OperationStatus;

  /** Sends so far (a command that never left the server is not counted). */
  @Prop({ required: true, default: 0 })
  attemptCount: number;

  @Prop({ required: true })
  maxAttempts: number;

  @Prop()
  lastError?: string;

  /** A pending operation is not claimed before this instant (retry backoff). */
  @Prop({ type: Date, required: true })
  nextAttemptAt: Date;

  @Prop({ type: Date })
  sentAt?: Date;

  @Prop({ type: Date })
  completedAt?: Date;

  /** Instance whose dispatcher holds the operation while it is `sent`. */
  @Prop()
  leaseOwner?: string;

  @Prop({ type: Date })
  leaseUntil?: Date;

  @Prop({ type: MongooseSchema.Types.ObjectId })
  parentId?: Types.ObjectId;

  /** Operations that must all succeed before this one may be sent. */
  @Prop({ type: [MongooseSchema.Types.ObjectId], default: [] })
  dependsOn: Types.ObjectId[];

  /** Some operation depends on this one (its end must settle them). */
  @Prop({ required: true, default: false })
  hasDependents: boolean;

  /** True while some dependency has not finished: the claim skips it. */
  @Prop({ required: true, default: false })
  depsPending: boolean;

  /**
   * A parent of multi-step work (a transfer): never sent to a terminal; its owner finishes it
   * when its children have finished.
   */
  @Prop({ required: true, default: false })
  group: boolean;

  @Prop()
  requestedBy?: string;

  /**
   * Housekeeping the server started itself (catch-up getnewlog, scheduled work): sent only when no
   * operation asked through the HTTP API waits for the same terminal.
   */
  @Prop({ required: true, default: false })
  background: boolean;

  /** Command sent on the wire when it differs from `type` (adduserinfo -> adduser). */
  @Prop()
  wireCmd?: string;

  /** Payload sent on the wire when it differs from the recorded `payload`. */
  @Prop({ type: MongooseSchema.Types.Mixed })
  wirePayload?: Record<string, unknown>;

  createdAt: Date;
  updatedAt: Date;
}

export type OperationDocument = HydratedDocument<Operation>;
export const OperationSchema = SchemaFactory.createForClass(Operation);

// The dispatcher's claim (the oldest pending operation of one terminal, people before housekeeping)
// and the poll's due work.
OperationSchema.index({ sn: 1, status: 1, background: 1, createdAt: 1, _id: 1 });
OperationSchema.index({ sn: 1, status: 1, createdAt: 1, _id: 1 });
OperationSchema.index({ sn: 1, status: 1, nextAttemptAt: 1, createdAt: 1, _id: 1 });
// Listing: newest first, alone or filtered by terminal, type or status.
OperationSchema.index({ createdAt: -1, _id: -1 });
OperationSchema.index({ sn: 1, createdAt: -1, _id: -1 });
OperationSchema.index({ type: 1, createdAt: -1, _id: -1 });
OperationSchema.index({ status: 1, createdAt: -1, _id: -1 });
// Combinations of the listing's filters (sn + status is served by the dispatcher's index above),
// and the counts of GET /api/operations/stats, one index range per status and per type.
OperationSchema.index({ sn: 1, type: 1, createdAt: -1, _id: -1 });
OperationSchema.index({ type: 1, status: 1, createdAt: -1, _id: -1 });
OperationSchema.index({ sn: 1, type: 1, status: 1, createdAt: -1, _id: -1 });
// Expired leases, retention, dependency resolution, children of a parent.
OperationSchema.index({ status: 1, leaseUntil: 1 });
OperationSchema.index({ status: 1, completedAt: 1 });
OperationSchema.index({ depsPending: 1, status: 1 });
OperationSchema.index({ dependsOn: 1 });
OperationSchema.index({ parentId: 1 });
OperationSchema.index({ group: 1, type: 1, status: 1, createdAt: 1 });
