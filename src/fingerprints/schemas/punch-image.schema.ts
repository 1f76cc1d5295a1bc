import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { HydratedDocument, Types } from 'mongoose';

export const PUNCH_IMAGE_MODEL = 'PunchImage';

/** A punch photo, kept out of the log document so listings stay small. Deduplicated by content. */
@Schema({ collection: 'punchimages', timestamps: { createdAt: true, updatedAt: false }, versionKey: false })
export class PunchImage {
  _id: Types.ObjectId;

  @Prop({ type: Buffer, required: true })
  data: Buffer;

  @Prop({ type: String, required: true })
  mime: string;

  @Prop({ type: Number, required: true })
  size: number;

  @Prop({ type: String, required: true })
  sha256: string;

  createdAt: Date;
}

export type PunchImageDocument = HydratedDocument<PunchImage>;
export const PunchImageSchema = SchemaFactory.createForClass(PunchImage);
PunchImageSchema.index({ sha256: 1 }, { unique: true });
