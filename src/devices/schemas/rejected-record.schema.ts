import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { HydratedDocument, Schema as MongooseSchema } from 'mongoose';

/**
 * A log record a terminal (or a gateway over /api/device-log) sent that cannot be stored as a
 * punch: kept as it came, with why, so an operator can see it and nothing is lost silently.
 */
@Schema({ collection: 'rejectedrecords', timestamps: { createdAt: 'receivedAt', updatedAt: false } })
export class RejectedRecord {
  @Prop({ required: true })
  sn: string;

  /** The record as received (a photo left out: it is kept nowhere for a rejected record). */
  @Prop({ type: MongooseSchema.Types.Mixed })
  raw: unknown;

  @Prop({ required: true })
  reason: string;

  /** sendlog, getnewlog, getalllog or device-log. */
  @Prop({ required: true })
  source: string;

  /** The same record sent again (a resent frame, a re-read page) is kept once. */
  @Prop({ required: true })
  dedupeKey: string;

  receivedAt?: Date;
}

export type RejectedRecordDocument = HydratedDocument<RejectedRecord>;
export const RejectedRecordSchema = SchemaFactory.createForClass(RejectedRecord);
RejectedRecordSchema.index({ dedupeKey: 1 }, { unique: true });
RejectedRecordSchema.index({ sn: 1, receivedAt: -1, _id: -1 });
