import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { Model, Types } from 'mongoose';
import { DeviceGroup, StoredDrift } from './schemas/device-group.schema';
import { GroupUserMark } from './schemas/group-user-mark.schema';

export type DeviceGroupRecord = DeviceGroup & { _id: Types.ObjectId };
export type GroupUserMarkRecord = GroupUserMark & { _id: Types.ObjectId };

function isDuplicateKeyError(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 11000;
}

/** The only class touching the DeviceGroup and GroupUserMark models. */
@Injectable()
export class DeviceGroupsRepository {
  constructor(
    @InjectModel(DeviceGroup.name) private readonly groups: Model<DeviceGroup>,
    @InjectModel(GroupUserMark.name) private readonly marks: Model<GroupUserMark>,
  ) {}

  async create(input: { name: string; sns: string[]; syncUsers: boolean; driftDueAt?: Date }) {
    const doc = await this.groups.create(input);
    return doc.toObject<DeviceGroupRecord>();
  }

  async findAll(): Promise<DeviceGroupRecord[]> {
    return this.groups.find().sort({ createdAt: 1, _id: 1 }).lean<DeviceGroupRecord[]>().exec();
  }

  async findById(id: string): Promise<DeviceGroupRecord | null> {
    return this.groups.findById(id).lean<DeviceGroupRecord>().exec();
  }

  async findBySn(sn: string): Promise<DeviceGroupRecord | null> {
    return this.groups.findOne({ sns: sn }).lean<DeviceGroupRecord>().exec();
  }

  /** The group of each of `sns` that is in one (a terminal belongs to at most one group). */
  async findBySns(sns: string[]): Promise<Map<string, DeviceGroupRecord>> {
    const wanted = new Set(sns);
    const groups = await this.groups
      .find({ sns: { $in: [...wanted] } }, { drift: 0 })
      .lean<DeviceGroupRecord[]>()
      .exec();
    const bySn = new Map<string, DeviceGroupRecord>();
    for (const group of groups) for (const sn of group.sns) if (wanted.has(sn) && !bySn.has(sn)) bySn.set(sn, group);
    return bySn;
  }

  /** Groups other than `exceptId` holding any of `sns`. */
  async findHolding(sns: string[], exceptId?: string): Promise<DeviceGroupRecord[]> {
    const filter: Record<string, unknown> = { sns: { $in: sns } };
    if (exceptId) filter._id = { $ne: new Types.ObjectId(exceptId) };
    return this.groups.find(filter).lean<DeviceGroupRecord[]>().exec();
  }

  async update(id: string, set: Partial<Pick<DeviceGroup, 'name' | 'sns' | 'syncUsers'>>) {
    return this.groups
      .findOneAndUpdate({ _id: new Types.ObjectId(id) }, { $set: set }, { returnDocument: 'after' })
      .lean<DeviceGroupRecord>()
      .exec();
  }

  async remove(id: string): Promise<boolean> {
    const res = await this.groups.deleteOne({ _id: new Types.ObjectId(id) }).exec();
    await this.marks.deleteMany({ groupId: new Types.ObjectId(id) }).exec();
    return res.deletedCount > 0;
  }

  async recordDrift(id: string, drift: StoredDrift): Promise<void> {
    await this.groups.updateOne({ _id: new Types.ObjectId(id) }, { $set: { drift } }).exec();
  }

  /** Claims one group whose scheduled drift check is due (atomic: one instance per group and round). */
  async claimDueDrift(now: Date, next: Date): Promise<DeviceGroupRecord | null> {
    return this.groups
      .findOneAndUpdate(
        { $or: [{ driftDueAt: { $lte: now } }, { driftDueAt: { $exists: false } }] },
        { $set: { driftDueAt: next } },
        { returnDocument: 'after', sort: { driftDueAt: 1 } },
      )
      .lean<DeviceGroupRecord>()
      .exec();
  }

  /**
   * Records `mark` as the newest version of its credential unless a newer one is recorded.
   * Returns the mark it replaced (null when none), or 'older' when a newer one stands.
   */
  async claimNewest(mark: GroupUserMark): Promise<GroupUserMarkRecord | null | 'older'> {
    const key = { groupId: mark.groupId, enrollid: mark.enrollid, backupnum: mark.backupnum };
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const previous = await this.marks
          .findOneAndUpdate({ ...key, receivedAt: { $lte: mark.receivedAt } }, { $set: mark }, { upsert: true })
          .lean<GroupUserMarkRecord>()
          .exec();
        return previous;
      } catch (err) {
        // The key exists with a newer receivedAt (the upsert collided with it), or a concurrent insert.
        if (!isDuplicateKeyError(err)) throw err;
        const current = await this.marks.findOne(key).lean<GroupUserMarkRecord>().exec();
        if (current && current.receivedAt.getTime() > mark.receivedAt.getTime()) return 'older';
      }
    }
    return 'older';
  }

  /** Marks of one user in a group (a delete supersedes all of them), removed as they are returned. */
  async takeMarksOfUser(groupId: Types.ObjectId, enrollid: number, before: Date): Promise<GroupUserMarkRecord[]> {
    const filter = { groupId, enrollid, receivedAt: { $lte: before } };
    const found = await this.marks.find(filter).lean<GroupUserMarkRecord[]>().exec();
    if (found.length > 0) await this.marks.deleteMany({ _id: { $in: found.map((m) => m._id) } }).exec();
    return found;
  }
}
