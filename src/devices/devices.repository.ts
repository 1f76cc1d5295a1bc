import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { Model, QueryFilter } from 'mongoose';
import { CatchUpState, Device, TerminalClockState } from './schemas/device.schema';

export type DeviceRecord = Device & { _id: unknown };
export type RegisteredDevice = Pick<DeviceRecord, 'timeZone' | 'model' | 'firmware'>;

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
}

export interface DeviceSettingsPatch {
  name?: string | null;
  timeZone?: string | null;
  allowed?: boolean | null;
  notes?: string | null;
}

/** The only class touching the Device model. */
@Injectable()
export class DevicesRepository {
  constructor(@InjectModel(Device.name) private readonly model: Model<Device>) {}

  async findBySn(sn: string): Promise<DeviceRecord | null> {
    return this.model.findOne({ sn }).lean<DeviceRecord>().exec();
  }

  /** Only what admission needs: `allowed` (null when the terminal is unknown). */
  async findAdmission(sn: string): Promise<Pick<DeviceRecord, 'allowed'> | null> {
    return this.model.findOne({ sn }, { _id: 0, allowed: 1 }).lean<Pick<DeviceRecord, 'allowed'>>().exec();
  }

  /**
   * Upserts the terminal as online on this instance's socket; returns the fields the
   * registration reply and log need (not the whole document with its devinfo).
   */
  async markRegistered(input: RegistrationInput): Promise<RegisteredDevice> {
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
    if (input.firstOnSocket) {
      set.connectedAt = input.at;
      set.remoteAddress = input.remoteAddress ?? null;
      set.urlPath = input.urlPath ?? null;
    }
    const doc = await this.model
      .findOneAndUpdate(
        { sn: input.sn },
        { $set: set },
        {
          upsert: true,
          returnDocument: 'after',
          setDefaultsOnInsert: true,
          projection: { _id: 0, timeZone: 1, model: 1, firmware: 1 },
        },
      )
      .lean<RegisteredDevice>()
      .exec();
    if (!doc) throw new Error(`Device ${input.sn} vanished during registration`);
    return doc;
  }

  /**
   * Fresh `lastSeenAt` for terminals whose socket this instance holds, in one round trip. Each
   * write also re-asserts that socket as the terminal's connection, which heals a registration
   * write that lost a race with another instance.
   */
  async touchLastSeen(entries: { sn: string; connectionId: string; instanceId: string; at: Date }[]): Promise<void> {
    if (entries.length === 0) return;
    await this.model.bulkWrite(
      entries.map((e) => ({
        updateOne: {
          filter: { sn: e.sn },
          update: { $set: { lastSeenAt: e.at, online: true, connectionId: e.connectionId, instanceId: e.instanceId } },
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

  async setClock(sn: string, clock: TerminalClockState): Promise<void> {
    await this.model.updateOne({ sn }, { $set: { clock } }).exec();
  }

  async setCatchUp(sn: string, catchUp: CatchUpState): Promise<void> {
    await this.model.updateOne({ sn }, { $set: { catchUp } }).exec();
  }
}
