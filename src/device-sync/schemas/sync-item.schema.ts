import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { HydratedDocument, Schema as MongooseSchema, Types } from 'mongoose';

export type SyncItemState = 'planned' | 'queueing' | 'queued';

/**
 * One user of a plan: the credentials to push (payloads as they will be sent) or a delete. Kept apart
 * from the plan so photos never make one document too large, and so an apply resumes per user.
 */
@Schema({ collection: 'devicesyncitems', versionKey: false })
export class SyncItem {
  @Prop({ type: Types.ObjectId, required: true })
  planId: Types.ObjectId;

  @Prop({ required: true })
  enrollid: number;

  @Prop({ required: true })
  kind: 'push' | 'delete';

  @Prop({ type: MongooseSchema.Types.Mixed, default: () => [] })
  pushes: { enrollid: number; name: string; backupnum: number; admin: number; record: string | number }[];

  @Prop({ required: true, default: 'planned' })
  state: SyncItemState;
}

export type SyncItemDocument = HydratedDocument<SyncItem>;
export const SyncItemSchema = SchemaFactory.createForClass(SyncItem);
SyncItemSchema.index({ planId: 1, state: 1, enrollid: 1 });
