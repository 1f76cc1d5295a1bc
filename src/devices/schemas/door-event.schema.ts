import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { HydratedDocument, Schema as MongooseSchema } from 'mongoose';

/** A door or system event: a log record with `enrollid` 0, kept apart from attendance. */
@Schema({ collection: 'doorevents', timestamps: { createdAt: 'receivedAt', updatedAt: false } })
export class DoorEvent {
  @Prop({ required: true })
  sn: string;

  /** The time exactly as the terminal sent it. */
  @Prop({ required: true })
  time: string;

  /** The instant it means in the terminal's time zone. */
  @Prop({ required: true })
  at: Date;

  @Prop({ required: true })
  timeZone: string;

  @Prop({ required: true })
  event: number;

  /** Meaning of `event` from the reference's door-event table ('unknown' outside it). */
  @Prop({ required: true })
  eventName: string;

  @Prop({ type: Number, default: null })
  inout: number | null;

  @Prop({ type: Number })
  mode?: number;

  @Prop({ type: Number })
  verifymode?: number;

  @Prop({ type: Number })
  logindex?: number;

  @Prop({ required: true })
  source: string;

  @Prop({ type: MongooseSchema.Types.Mixed })
  raw?: Record<string, unknown>;

  receivedAt?: Date;
}

export type DoorEventDocument = HydratedDocument<DoorEvent>;
export const DoorEventSchema = SchemaFactory.createForClass(DoorEvent);
// Dedupe: the same event sent again (lost ack, getnewlog overlap, device-log) is stored once.
DoorEventSchema.index({ sn: 1, at: 1, event: 1, inout: 1 }, { unique: true });
DoorEventSchema.index({ sn: 1, at: -1 });
