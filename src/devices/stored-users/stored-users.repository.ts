import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { AnyBulkWriteOperation, Model } from 'mongoose';
import { DeviceUser } from './device-user.schema';
import { isDuplicateKeyError } from '@app/common';

export type DeviceUserRecord = DeviceUser & { _id: unknown };

/** Terminals in one `$or` (the embedded database plans an index union of up to 100 branches). */
const STANDINGS_TERMINALS_PER_QUERY = 100;

/** The only class touching the DeviceUser model. */
@Injectable()
export class StoredUsersRepository {
  constructor(@InjectModel(DeviceUser.name) private readonly model: Model<DeviceUser>) {}

  async find(sn: string, enrollid: number): Promise<DeviceUserRecord | null> {
    return this.model.findOne({ sn, enrollid }).lean<DeviceUserRecord>().exec();
  }

  /**
   * Which of these enroll ids are users of each terminal, and whether they are disabled there:
   * several terminals at once (one query per STANDINGS_TERMINALS_PER_QUERY terminals, each branch
   * served by the { sn, enrollid } index).
   */
  async standingsMany(
    asked: ReadonlyMap<string, readonly number[]>,
  ): Promise<{ sn: string; enrollid: number; enabled?: boolean }[]> {
    const branches = [...asked].map(([sn, ids]) => ({ sn, enrollid: { $in: [...ids] } }));
    const queries: Record<string, unknown>[] = [];
    for (let i = 0; i < branches.length; i += STANDINGS_TERMINALS_PER_QUERY) {
      const part = branches.slice(i, i + STANDINGS_TERMINALS_PER_QUERY);
      queries.push(part.length === 1 ? part[0] : { $or: part });
    }
    const found = await Promise.all(
      queries.map((filter) =>
        this.model
          .find(filter, { _id: 0, sn: 1, enrollid: 1, enabled: 1 })
          .lean<{ sn: string; enrollid: number; enabled?: boolean }[]>()
          .exec(),
      ),
    );
    return found.flat();
  }

  async findBySn(sn: string): Promise<DeviceUserRecord[]> {
    return this.model.find({ sn }).sort({ enrollid: 1 }).lean<DeviceUserRecord[]>().exec();
  }

  /** Users the last read (or write) found on the terminal. */
  async countOnDevice(sn: string): Promise<number> {
    return this.model.countDocuments({ sn, onDevice: { $ne: false } }).exec();
  }

  async pageBySn(sn: string, skip: number, limit: number): Promise<{ total: number; items: DeviceUserRecord[] }> {
    const [total, items] = await Promise.all([
      this.model.countDocuments({ sn }).exec(),
      this.model.find({ sn }).sort({ enrollid: 1 }).skip(skip).limit(limit).lean<DeviceUserRecord[]>().exec(),
    ]);
    return { total, items };
  }

  /**
   * Applies `set`/`unset` to the user (created when absent). Credential paths are
   * `credentials.<backupnum>...`, so one credential changes atomically without touching the others.
   */
  async upsert(sn: string, enrollid: number, set: Record<string, unknown>, unset: string[] = []): Promise<void> {
    const update: Record<string, unknown> = { $set: set };
    if (unset.length > 0) update.$unset = Object.fromEntries(unset.map((p) => [p, '']));
    try {
      await this.model.updateOne({ sn, enrollid }, update, { upsert: true }).exec();
    } catch (err) {
      // A concurrent upsert created the user first; the retry updates it.
      if (!isDuplicateKeyError(err)) throw err;
      await this.model.updateOne({ sn, enrollid }, update, { upsert: true }).exec();
    }
  }

  async update(sn: string, enrollid: number, set: Record<string, unknown>, unset: string[]): Promise<boolean> {
    const update: Record<string, unknown> = {};
    if (Object.keys(set).length > 0) update.$set = set;
    if (unset.length > 0) update.$unset = Object.fromEntries(unset.map((p) => [p, '']));
    if (Object.keys(update).length === 0) return (await this.find(sn, enrollid)) !== null;
    const res = await this.model.updateOne({ sn, enrollid }, update).exec();
    return res.matchedCount > 0;
  }

  async remove(sn: string, enrollid: number): Promise<boolean> {
    const res = await this.model.deleteOne({ sn, enrollid }).exec();
    return res.deletedCount > 0;
  }

  async bulk(ops: AnyBulkWriteOperation<DeviceUser>[]): Promise<void> {
    for (let i = 0; i < ops.length; i += 500) {
      await this.model.bulkWrite(ops.slice(i, i + 500), { ordered: false });
    }
  }
}
