import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { HydratedDocument, Schema as MongooseSchema } from 'mongoose';

/** Drift counts of one member, as the last check found them. */
export interface StoredMemberDrift {
  sn: string;
  missing: number;
  extra: number;
  differing: number;
}

export interface StoredDrift {
  checkedAt: Date;
  /** true when the rosters were re-read first (else: the server's copy as it was) */
  refreshed: boolean;
  members: StoredMemberDrift[];
  total: { missing: number; extra: number; differing: number };
}

/** Terminals of one site kept together; a terminal belongs to at most one group. */
@Schema({ collection: 'devicegroups', timestamps: true, versionKey: false })
export class DeviceGroup {
  @Prop({ required: true })
  name: string;

  @Prop({ type: [String], default: [] })
  sns: string[];

  /** push users enrolled on one member to every other member */
  @Prop({ required: true, default: false })
  syncUsers: boolean;

  @Prop({ type: MongooseSchema.Types.Mixed })
  drift?: StoredDrift;

  /** the scheduled drift check claims the group when this instant has passed */
  @Prop({ type: Date })
  driftDueAt?: Date;

  createdAt: Date;
  updatedAt: Date;
}

export type DeviceGroupDocument = HydratedDocument<DeviceGroup>;
export const DeviceGroupSchema = SchemaFactory.createForClass(DeviceGroup);
DeviceGroupSchema.index({ sns: 1 });
DeviceGroupSchema.index({ driftDueAt: 1 });
