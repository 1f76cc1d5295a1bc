import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { HydratedDocument, Types } from 'mongoose';

/**
 * The newest propagated version of one credential (enroll id + slot) in a group: an older event
 * arriving later is not propagated, and a newer one cancels the older one's unsent pushes.
 */
@Schema({ collection: 'groupusermarks', versionKey: false })
export class GroupUserMark {
  @Prop({ type: Types.ObjectId, required: true })
  groupId: Types.ObjectId;

  @Prop({ required: true })
  enrollid: number;

  @Prop({ required: true })
  backupnum: number;

  /** when the server received the change (senduser frame, finished operation) */
  @Prop({ type: Date, required: true })
  receivedAt: Date;

  @Prop({ required: true })
  sourceSn: string;

  /** the propagation (parent operation) that carries this version */
  @Prop({ required: true })
  propagationId: string;
}

export type GroupUserMarkDocument = HydratedDocument<GroupUserMark>;
export const GroupUserMarkSchema = SchemaFactory.createForClass(GroupUserMark);
GroupUserMarkSchema.index({ groupId: 1, enrollid: 1, backupnum: 1 }, { unique: true });
