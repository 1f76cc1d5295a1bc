import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';

/** Photo bytes one serial stored through POST /api/device-log on one UTC day (`<sn>|<yyyy-mm-dd>`). */
@Schema({ collection: 'devicelogimageusage', versionKey: false })
export class DeviceLogImageUsage {
  @Prop({ type: String, required: true })
  _id: string;

  @Prop({ required: true })
  bytes: number;

  /** Two days after the day began: the TTL index removes old counters. */
  @Prop({ required: true })
  expiresAt: Date;
}

export const DeviceLogImageUsageSchema = SchemaFactory.createForClass(DeviceLogImageUsage);
DeviceLogImageUsageSchema.index({ expiresAt: 1 }, { expireAfterSeconds: 0 });
