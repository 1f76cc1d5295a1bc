import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { Model, QueryFilter } from 'mongoose';
import {
  CatchUpState,
  Device,
  IdentityConflictRecord,
  TerminalClockState,
  TerminalIdentityRecord,
} from './schemas/device.schema';

export type DeviceRecord = Device & { _id: unknown };
/**
 * What the registration checks read: admission, pinned identity and what can stand in for it; and
 * what the reply and its log line need (the zone the terminal's clock is set in, model, firmware),
 * so that the registration write needs no read after it.
 */
export type TrustRecord = Pick<
  DeviceRecord,
  'allowed' | 'admission' | 'identity' | 'cpusn' | 'connectedAt' | 'timeZone' | 'model' | 'firmware'
> & {
  devinfo?: { mac?: unknown };
};

const TRUST_PROJECTION = {
  allowed: 1,
  admission: 1,
  identity: 1,
  cpusn: 1,
  connectedAt: 1,
  'devinfo.mac': 1,
  timeZone: 1,
  model: 1,
  firmware: 1,
} as const;

/** Identity conflicts kept per terminal. */
export const IDENTITY_CONFLICTS_KEPT = 20;

export interface RegistrationInput {
  sn: string;
  cpusn?: string;
  devinfo: Record<string, unknown>;
  firmware?: string;
  model?: string;
  remoteAddress?: string;
  urlPath?: string;
  instanceId: string;
  connectionId: string;
  at: Date;
  /** First `reg` on this socket: the connection starts now. */
  firstOnSocket: boolean;
  /** The hardware identity to pin (first accepted registration, or a stronger one). */
  identity?: TerminalIdentityRecord;
  /** How far the terminal's clock is off, measured from its reg (written with the registration). */
  clock?: TerminalClockState;
}

export interface DeviceSettingsPatch {
  name?: string | null;
  timeZone?: string | null;
  allowed?: boolean | null;
  notes?: string | null;
  /** set with `allowed: true` on a pending terminal: its next registration is accepted */
  admission?: string;
}

/** The only class touching the Device model. */
@Injectable()
export class DevicesRepository {
  constructor(@InjectModel(Device.name) private readonly model: Model<Device>) {}

  async findBySn(sn: string): Promise<DeviceRecord | null> {
    return this.model.findOne({ sn }).lean<DeviceRecord>().exec();
  }

  /** The zone and name frames are read with, for many serials in one round trip (absent = unknown terminal). */
  async findFrameContexts(sns: string[]): Promise<Map<string, Pick<DeviceRecord, 'timeZone' | 'name'>>> {
    const docs = await this.model
      .find({ sn: { $in: [...new Set(sns)] } }, { _id: 0, sn: 1, timeZone: 1, name: 1 })
      .lean<Array<Pick<DeviceRecord, 'sn' | 'timeZone' | 'name'>>>()
      .exec();
    return new Map(docs.map(({ sn, ...ctx }) => [sn, ctx]));
  }

  /** Only what admission needs: `allowed` (null when the terminal is unknown). */
  async findAdmission(sn: string): Promise<Pick<DeviceRecord, 'allowed'> | null> {
    return this.model.findOne({ sn }, { _id: 0, allowed: 1 }).lean<Pick<DeviceRecord, 'allowed'>>().exec();
  }

  async findTrust(sn: string): Promise<TrustRecord | null> {
    return this.model
      .findOne({ sn }, { _id: 0, ...TRUST_PROJECTION })
      .lean<TrustRecord>()
      .exec();
  }

  /** What the registration checks read, for many serials in one round trip (absent = unknown terminal). */
  async findTrustMany(sns: string[]): Promise<Map<string, TrustRecord>> {
    // Straight to the driver (as the registration write): a filter of strings needs no casting.
    const docs = await this.model.collection
      .find<TrustRecord & { sn: string }>(
        { sn: { $in: [...new Set(sns)] } },
        { projection: { _id: 0, sn: 1, ...TRUST_PROJECTION } },
      )
      .toArray();
    const out = new Map<string, TrustRecord>();
    for (const { sn, ...trust } of docs) out.set(sn, trust);
    return out;
  }

  async recordIdentityConflict(sn: string, conflict: IdentityConflictRecord): Promise<void> {
    await this.model
      .updateOne({ sn }, { $push: { identityConflicts: { $each: [conflict], $slice: -IDENTITY_CONFLICTS_KEPT } } })
      .exec();
  }

  /** The next registration pins a new identity (after a mainboard swap); false when the sn is unknown. */
  async resetIdentity(sn: string, at: Date): Promise<boolean> {
    const res = await this.model.updateOne({ sn }, { $set: { identity: { resetAt: at } } }).exec();
    return res.matchedCount > 0;
  }

  async countPending(): Promise<number> {
    return this.model.countDocuments({ admission: 'pending' }).exec();
  }

  /**
   * A serial waiting for approval. A new one is created with its (capped) devinfo; one already on
   * record (pending, or known only through /api/device-log) is marked pending and nothing else.
   */
  async recordPending(
    sn: string,
    input: { cpusn?: string; devinfo: Record<string, unknown>; remoteAddress?: string; at: Date },
    exists: boolean,
  ): Promise<void> {
    const seen = { lastSeenAt: input.at, remoteAddress: input.remoteAddress ?? null };
    if (exists) {
      await this.model.updateOne({ sn }, { $set: { admission: 'pending', ...seen } }).exec();
      return;
    }
    await this.model
      .updateOne(
        { sn },
        {
          $setOnInsert: {
            admission: 'pending',
            online: false,
            devinfo: input.devinfo,
            ...seen,
            ...(input.cpusn !== undefined ? { cpusn: input.cpusn } : {}),
          },
        },
        { upsert: true },
      )
      .exec();
  }

  /**
   * Upserts terminals (distinct serials) as online on this instance's sockets, in one unordered
   * write (what the reply needs was read with the trust record). A failed write fails only its own
   * terminal.
   */
  async markRegisteredMany(inputs: RegistrationInput[]): Promise<Array<undefined | Error>> {
    const failed = new Map<number, Error>();
    // Straight to the driver: thousands of terminals registering after a restart spent a third of
    // their time in the ODM casting these fields, which are typed already. What the schema would add
    // is added here: the timestamps (its only defaults, online and devinfo, are always set).
    const now = new Date();
    try {
      await this.model.collection.bulkWrite(
        inputs.map((input) => ({
          updateOne: {
            filter: { sn: input.sn },
            update: { $set: { ...registrationSet(input), updatedAt: now }, $setOnInsert: { createdAt: now } },
            upsert: true,
          },
        })),
        { ordered: false },
      );
    } catch (err) {
      const writeErrors = (err as { writeErrors?: Array<{ index: number; errmsg?: string }> }).writeErrors;
      if (!Array.isArray(writeErrors) || writeErrors.length === 0) throw err;
      for (const e of writeErrors)
        failed.set(e.index, new Error(`registration not written: ${e.errmsg ?? 'write error'}`));
    }
    return inputs.map((_, i) => failed.get(i));
  }

  /**
   * Fresh `lastSeenAt` for terminals whose socket this instance holds, in one round trip. Each
   * write also re-asserts that socket as the terminal's connection, which heals a registration
   * write that lost a race with another instance.
   */
  async touchLastSeen(entries: { sn: string; connectionId: string; instanceId: string; at: Date }[]): Promise<void> {
    if (entries.length === 0) return;
    // Every held terminal each sweep: the driver's write, not the ODM's (which casts each of
    // thousands of updates again); the schema's timestamp is set here as the ODM would.
    const updatedAt = new Date();
    await this.model.collection.bulkWrite(
      entries.map((e) => ({
        updateOne: {
          filter: { sn: e.sn },
          update: {
            $set: { lastSeenAt: e.at, online: true, connectionId: e.connectionId, instanceId: e.instanceId, updatedAt },
          },
        },
      })),
      { ordered: false },
    );
  }

  /** Offline only if this socket is still the one recorded: a newer connection is never overwritten. */
  async markOffline(connectionIds: string[], reason: string, at: Date): Promise<void> {
    if (connectionIds.length === 0) return;
    await this.model
      .updateMany(
        { connectionId: { $in: connectionIds }, online: true },
        { $set: { online: false, disconnectedAt: at, disconnectReason: reason, lastSeenAt: at } },
      )
      .exec();
  }

  /** At boot: what this instance held before it stopped, and every terminal whose lease expired. */
  async markStaleOffline(instanceId: string, leaseCutoff: Date, at: Date): Promise<number> {
    const res = await this.model
      .updateMany(
        {
          online: true,
          $or: [{ instanceId }, { lastSeenAt: { $lt: leaseCutoff } }, { lastSeenAt: null }],
        },
        { $set: { online: false, disconnectedAt: at, disconnectReason: 'stale' } },
      )
      .exec();
    return res.modifiedCount;
  }

  async list(
    filter: { online?: boolean; leaseCutoff: Date },
    skip: number,
    limit: number,
  ): Promise<{ total: number; items: DeviceRecord[] }> {
    const query: QueryFilter<Device> = {};
    if (filter.online === true) {
      query.online = true;
      query.lastSeenAt = { $gte: filter.leaseCutoff };
    } else if (filter.online === false) {
      query.$or = [{ online: { $ne: true } }, { lastSeenAt: { $lt: filter.leaseCutoff } }, { lastSeenAt: null }];
    }
    const [total, items] = await Promise.all([
      this.model.countDocuments(query).exec(),
      this.model.find(query).sort({ lastSeenAt: -1, sn: 1 }).skip(skip).limit(limit).lean<DeviceRecord[]>().exec(),
    ]);
    return { total, items };
  }

  async updateSettings(sn: string, patch: DeviceSettingsPatch): Promise<DeviceRecord | null> {
    const set: Record<string, unknown> = {};
    const unset: Record<string, ''> = {};
    for (const [key, value] of Object.entries(patch)) {
      if (value === undefined) continue;
      if (value === null) unset[key] = '';
      else set[key] = value;
    }
    const update: Record<string, unknown> = {};
    if (Object.keys(set).length > 0) update.$set = set;
    if (Object.keys(unset).length > 0) update.$unset = unset;
    if (Object.keys(update).length === 0) return this.findBySn(sn);
    return this.model.findOneAndUpdate({ sn }, update, { returnDocument: 'after' }).lean<DeviceRecord>().exec();
  }

  /** Inserts an offline terminal; null when one with this sn exists (the unique index decides). */
  async createIfAbsent(input: { sn: string; name?: string; timeZone?: string }): Promise<DeviceRecord | null> {
    try {
      const doc = await this.model.create({ ...input, online: false, devinfo: {} });
      return doc.toObject<DeviceRecord>();
    } catch (err) {
      if (typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 11000) return null;
      throw err;
    }
  }

  /** A terminal known only through POST /api/device-log gets a document operators can name and zone. */
  async noteDeviceLog(sn: string, at: Date): Promise<void> {
    await this.model
      .updateOne(
        { sn },
        { $set: { lastDeviceLogAt: at }, $setOnInsert: { online: false, devinfo: {} } },
        { upsert: true },
      )
      .exec();
  }

  /** Clock offsets of many terminals in one unordered write (the last one given per terminal). */
  async setClocks(entries: Array<{ sn: string; clock: TerminalClockState }>): Promise<void> {
    const latest = new Map(entries.map((e) => [e.sn, e.clock]));
    if (latest.size === 0) return;
    const updatedAt = new Date();
    await this.model.collection.bulkWrite(
      [...latest].map(([sn, clock]) => ({ updateOne: { filter: { sn }, update: { $set: { clock, updatedAt } } } })),
      { ordered: false },
    );
  }

  async setCatchUp(sn: string, catchUp: CatchUpState): Promise<void> {
    await this.model.updateOne({ sn }, { $set: { catchUp } }).exec();
  }
}

/** The fields a registration sets (a repeated `reg` on the same socket leaves the connection's own alone). */
function registrationSet(input: RegistrationInput): Record<string, unknown> {
  const set: Record<string, unknown> = {
    devinfo: input.devinfo,
    online: true,
    instanceId: input.instanceId,
    connectionId: input.connectionId,
    lastSeenAt: input.at,
  };
  if (input.cpusn !== undefined) set.cpusn = input.cpusn;
  if (input.firmware !== undefined) set.firmware = input.firmware;
  if (input.model !== undefined) set.model = input.model;
  if (input.identity !== undefined) set.identity = input.identity;
  if (input.clock !== undefined) set.clock = input.clock;
  if (input.firstOnSocket) {
    set.admission = 'admitted';
    set.connectedAt = input.at;
    set.remoteAddress = input.remoteAddress ?? null;
    set.urlPath = input.urlPath ?? null;
  }
  return set;
}
