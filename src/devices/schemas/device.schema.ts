import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { HydratedDocument, Schema as MongooseSchema } from 'mongoose';

export interface TerminalIdentityRecord {
  cpusn?: string;
  mac?: string;
  pinnedAt?: Date;
  resetAt?: Date;
}

export interface IdentityConflictRecord {
  at: Date;
  remoteAddress: string | null;
  cpusn: string | null;
  /** why it was refused: `identity` (cpusn/mac differ) or `alive` (the pinned socket answered its ping) */
  reason: string;
  devinfo: Record<string, unknown>;
}

export interface TerminalClockState {
  /** Terminal clock minus server clock, in seconds (positive = the terminal is ahead). */
  offsetSeconds: number;
  measuredAt: Date;
  /** `reg` (its devinfo.time) or `sendlog` (a record dated ahead of the server clock). */
  source: 'reg' | 'sendlog';
}

export interface CatchUpState {
  supported: boolean;
  lastError: string | null;
  at: Date;
}

/** A terminal: what it told us at `reg`, where it is connected, and what operators set. */
@Schema({ collection: 'devices', timestamps: true, minimize: false })
export class Device {
  @Prop({ required: true, unique: true })
  sn: string;

  @Prop()
  cpusn?: string;

  /** Every `devinfo` field of the last `reg`, raw. */
  @Prop({ type: MongooseSchema.Types.Mixed, default: {} })
  devinfo: Record<string, unknown>;

  @Prop()
  firmware?: string;

  @Prop()
  model?: string;

  /** Operator-given. */
  @Prop()
  name?: string;

  /** IANA zone of the terminal's clock; unset = DEVICE_DEFAULT_TIMEZONE. */
  @Prop()
  timeZone?: string;

  /** true = admitted even when not on the allow-list; false = refused always; unset = the list decides. */
  @Prop({ type: Boolean })
  allowed?: boolean;

  @Prop()
  notes?: string;

  @Prop({ default: false })
  online: boolean;

  /** The instance holding the socket, and that socket's id (a late close of an older socket changes nothing). */
  @Prop()
  instanceId?: string;

  @Prop()
  connectionId?: string;

  @Prop()
  remoteAddress?: string;

  /** URL path the terminal dialled (`/pub/chat` is common). */
  @Prop()
  urlPath?: string;

  @Prop()
  connectedAt?: Date;

  @Prop()
  lastSeenAt?: Date;

  @Prop()
  disconnectedAt?: Date;

  @Prop()
  disconnectReason?: string;

  /**
   * Hardware identity pinned by the first accepted registration (`cpusn`, devinfo `mac`); a later
   * `reg` with another identity is refused. `{}` after an admin reset: the next registration pins.
   */
  @Prop({ type: MongooseSchema.Types.Mixed })
  identity?: TerminalIdentityRecord;

  /** Refused registrations for this serial (identity differs, or its socket was alive), the last 20. */
  @Prop({ type: [MongooseSchema.Types.Mixed], default: undefined })
  identityConflicts?: IdentityConflictRecord[];

  /** `pending` while waiting for an admin (DEVICE_ADMISSION=approve); `admitted` once it registered. */
  @Prop()
  admission?: string;

  /** Last punch received over POST /api/device-log. */
  @Prop()
  lastDeviceLogAt?: Date;

  /** How far the terminal's clock is from the server's, measured from its reg (or a sendlog dated ahead). */
  @Prop({ type: MongooseSchema.Types.Mixed })
  clock?: TerminalClockState;

  /** Whether the terminal answers the background catch-up getnewlog (unset = not tried yet). */
  @Prop({ type: MongooseSchema.Types.Mixed })
  catchUp?: CatchUpState;

  createdAt?: Date;
  updatedAt?: Date;
}

export type DeviceDocument = HydratedDocument<Device>;
export const DeviceSchema = SchemaFactory.createForClass(Device);
DeviceSchema.index({ lastSeenAt: -1, sn: 1 });
DeviceSchema.index({ online: 1, lastSeenAt: -1, sn: 1 });
DeviceSchema.index({ instanceId: 1, online: 1 });
// Marking a socket's terminal offline filters on both: with `connectionId` alone the embedded
// planner may walk every online terminal instead (once per disconnect, so quadratic in a storm).
DeviceSchema.index({ connectionId: 1, online: 1 });
DeviceSchema.index({ admission: 1 });
