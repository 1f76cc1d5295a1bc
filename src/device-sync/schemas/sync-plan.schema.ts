import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { HydratedDocument, Schema as MongooseSchema } from 'mongoose';

export interface PlanCounts {
  missing: number;
  extra: number;
  differing: number;
  /** setuserinfo pushes apply will send */
  pushes: number;
  /** credentials of the source that cannot be written (no record, invalid record) */
  unpushable: number;
}

/** What one terminal (toSn) must gain and lose to hold what another terminal, or the backup, holds. */
@Schema({ collection: 'devicesyncplans', timestamps: true, versionKey: false })
export class SyncPlan {
  @Prop()
  fromSn?: string;

  @Prop({ required: true, default: false })
  fromBackup: boolean;

  @Prop({ required: true })
  toSn: string;

  @Prop({ type: [Number] })
  enrollIds?: number[];

  @Prop({ type: [Number], default: [] })
  missing: number[];

  @Prop({ type: [Number], default: [] })
  extra: number[];

  @Prop({ type: MongooseSchema.Types.Mixed, default: () => [] })
  differing: { enrollid: number; backupnums: number[] }[];

  @Prop({ type: MongooseSchema.Types.Mixed, required: true })
  counts: PlanCounts;

  /** digest of the target's roster when planned; apply refuses when it changed (plan_stale) */
  @Prop({ required: true })
  targetDigest: string;

  /** the parent operation of the apply, once applied */
  @Prop()
  applyOpId?: string;

  @Prop()
  requestedBy?: string;

  createdAt: Date;
  updatedAt: Date;
}

export type SyncPlanDocument = HydratedDocument<SyncPlan>;
export const SyncPlanSchema = SchemaFactory.createForClass(SyncPlan);
SyncPlanSchema.index({ createdAt: 1 });
