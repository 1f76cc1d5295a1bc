import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { HydratedDocument, Schema as MongooseSchema } from 'mongoose';

export interface StoredCredential {
  record?: string | number | null;
  updatedAt: Date;
  /** false once a roster read from the terminal no longer lists it (the server's copy is kept). */
  onDevice: boolean;
}

/**
 * The server's copy of a terminal user. Credentials are keyed by `backupnum` so that one update
 * can set or remove a single credential atomically.
 */
@Schema({ collection: 'deviceusers', timestamps: true, minimize: false })
export class DeviceUser {
  @Prop({ required: true })
  sn: string;

  @Prop({ required: true })
  enrollid: number;

  @Prop()
  name?: string;

  /** Exists only on the server: no terminal stores it. */
  @Prop()
  aliasid?: string;

  @Prop({ type: Number })
  admin?: number;

  // No defaults here: an upsert that sets `credentials.<n>` must not also get `$setOnInsert: { credentials }`.
  @Prop({ type: MongooseSchema.Types.Mixed })
  credentials?: Record<string, StoredCredential>;

  @Prop()
  onDevice?: boolean;

  /** false after an `enableuser` with enflag 0 succeeded on the terminal: its punches open no door. */
  @Prop({ type: Boolean })
  enabled?: boolean;

  @Prop()
  missingSince?: Date;

  createdAt?: Date;
  updatedAt?: Date;
}

export type DeviceUserDocument = HydratedDocument<DeviceUser>;
export const DeviceUserSchema = SchemaFactory.createForClass(DeviceUser);
DeviceUserSchema.index({ sn: 1, enrollid: 1 }, { unique: true });
