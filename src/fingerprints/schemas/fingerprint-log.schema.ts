import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { HydratedDocument, Schema as MongooseSchema, Types } from 'mongoose';

export const FINGERPRINT_LOG_MODEL = 'FingerPrintLog';

/** Stored values are the wire values of the contract. */
export enum PunchDeviceType {
  Terminal = 'terminal',
  MobileApp = 'mobile_app',
}

/** Where a punch came from: a terminal frame or log read, the public device-log route, or the app. */
export type PunchSource = 'sendlog' | 'getnewlog' | 'getalllog' | 'device-log' | 'app';
/** The sources that are terminals (everything but the app). */
export type TerminalPunchSource = Exclude<PunchSource, 'app'>;

@Schema({ _id: false, versionKey: false })
export class PunchLocation {
  @Prop({ type: Number, required: true })
  latitude: number;

  @Prop({ type: Number, required: true })
  longitude: number;
}
const PunchLocationSchema = SchemaFactory.createForClass(PunchLocation);

/**
 * One attendance punch, from a terminal or from the mobile app. Forwarding state: `is_send` = a
 * forward was attempted, delivered = `is_send && !send_failed`; `forward_pending` is true until
 * delivered and drives the outbox, `lease_until` + `claim_token` mark the attempt that owns it.
 */
@Schema({ collection: 'fingerprintlogs', timestamps: true, versionKey: false })
export class FingerPrintLog {
  _id: Types.ObjectId;

  @Prop({ type: String, required: true })
  enrollid: string;

  @Prop({ type: Number, required: true, default: 0 })
  event: number;

  /** The instant of the punch (terminal wall time read in the terminal's time zone). */
  @Prop({ type: Date, required: true })
  time: Date;

  @Prop({ type: String, required: true })
  device_sn: string;

  @Prop({ type: String, default: null })
  device_name: string | null;

  @Prop({ type: String, required: true, enum: Object.values(PunchDeviceType) })
  device_type: PunchDeviceType;

  @Prop({ type: Types.ObjectId, default: null })
  employee: Types.ObjectId | null;

  @Prop({ type: String, default: null })
  owner: string | null;

  @Prop({ type: PunchLocationSchema, default: null })
  location: PunchLocation | null;

  @Prop({ type: String, default: null })
  macs: string | null;

  @Prop({ type: Types.ObjectId, default: null })
  imageId: Types.ObjectId | null;

  // ---- terminal punches ----
  /** The time text exactly as the terminal sent it. */
  @Prop({ type: String, default: null })
  raw_time: string | null;

  /** The terminal's wall time, `YYYY-MM-DDTHH:MM:SS` (what the HR server receives). */
  @Prop({ type: String, default: null })
  local_time: string | null;

  @Prop({ type: String, default: null })
  time_zone: string | null;

  @Prop({ type: Number, default: null })
  mode: number | null;

  @Prop({ type: Number, default: null })
  inout: number | null;

  @Prop({ type: Number, default: null })
  verifymode: number | null;

  @Prop({ type: Number, default: null })
  temp: number | null;

  @Prop({ type: Number, default: null })
  logindex: number | null;

  /** The name the terminal sent with the punch; listings show it when no employee matches. */
  @Prop({ type: String, default: null })
  device_user_name?: string | null;

  /** Dated more than DEVICE_MAX_FUTURE_SKEW ahead of the server clock when received (a terminal's clock is wrong). */
  @Prop({ type: Boolean, default: false })
  clock_suspect?: boolean;

  @Prop({ type: String, required: true })
  source: PunchSource;

  @Prop({ type: MongooseSchema.Types.Mixed, default: null })
  raw: Record<string, unknown> | null;

  /** Unique: a terminal punch sent twice (lost ack, getnewlog overlap, device-log) is stored once. */
  @Prop({ type: String, required: true })
  dedupe_key: string;

  // ---- forwarding ----
  @Prop({ type: Boolean, default: false })
  is_send: boolean;

  @Prop({ type: Boolean, default: false })
  send_failed: boolean;

  @Prop({ type: Date, default: null })
  forwardedAt: Date | null;

  @Prop({ type: MongooseSchema.Types.Mixed, default: null })
  forwardResponse: unknown;

  @Prop({ type: String, default: null })
  last_attempt_error: string | null;

  @Prop({ type: Date, default: null })
  last_attempt_at: Date | null;

  @Prop({ type: Number, default: 0 })
  forward_attempts: number;

  @Prop({ type: Boolean, default: true })
  forward_pending: boolean;

  /**
   * The HR server refused this punch when it was sent on its own: it is retried on its own schedule
   * and no longer holds back the punches after it (a poison record must not stall a terminal).
   */
  @Prop({ type: Boolean, default: false })
  forward_isolated: boolean;

  /** Attempts the HR server answered with a refusal (not an outage): each one halves the next batch. */
  @Prop({ type: Number, default: 0 })
  forward_rejections: number;

  /**
   * The Idempotency-Key of the batch this punch was sent in. Written (on every member) before the
   * request goes out and kept until the HR server answers that batch definitely: until then every
   * retry sends exactly the punches holding this key, under it. A refusal clears it (the batch may
   * then be split, its parts getting new keys); a delivered punch keeps it.
   */
  @Prop({ type: String, default: null })
  forward_key: string | null;

  /** Earliest time the outbox may try again (backoff); null once delivered. */
  @Prop({ type: Date, default: null })
  next_attempt_at: Date | null;

  @Prop({ type: String, default: null })
  claim_token: string | null;

  /** The claim holds until then; an expired lease (crashed instance) is claimable again. */
  @Prop({ type: Date, default: () => new Date(0) })
  lease_until: Date;

  createdAt: Date;
  updatedAt: Date;
}

export type FingerPrintLogDocument = HydratedDocument<FingerPrintLog>;
export const FingerPrintLogSchema = SchemaFactory.createForClass(FingerPrintLog);

FingerPrintLogSchema.index({ dedupe_key: 1 }, { unique: true });
// Outbox: due undelivered punches, then the head of one terminal's stream in order.
FingerPrintLogSchema.index({ forward_pending: 1, next_attempt_at: 1 });
// The forwarding backlog's age (health, metrics): the oldest pending punch without a scan.
FingerPrintLogSchema.index({ forward_pending: 1, createdAt: 1 });
FingerPrintLogSchema.index({ forward_pending: 1, device_type: 1, device_sn: 1, time: 1, _id: 1 });
// Outbox: the members of a batch sent under one Idempotency-Key.
FingerPrintLogSchema.index({ forward_key: 1 });
// Listings (newest first) and each filter they offer: the filter's fields as an equality prefix,
// then the sort, so a page and its total are read from one index range (embedded and MongoDB).
// is_send and send_failed are always stored as booleans: a listing filtering one of them asks for
// both values of the other, which MongoDB and the embedded server merge in sort order.
FingerPrintLogSchema.index({ device_type: 1, time: -1, _id: -1 });
FingerPrintLogSchema.index({ device_type: 1, is_send: 1, send_failed: 1, time: -1, _id: -1 });
FingerPrintLogSchema.index({ device_type: 1, device_sn: 1, time: -1, _id: -1 });
FingerPrintLogSchema.index({ device_type: 1, enrollid: 1, time: -1, _id: -1 });
FingerPrintLogSchema.index({ device_type: 1, employee: 1, time: -1, _id: -1 });
