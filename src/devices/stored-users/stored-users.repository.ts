import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { AnyBulkWriteOperation, Model } from 'mongoose';
import type { AnyBulkWriteOperation as DriverBulkOperation, Document } from 'mongodb';
import { DeviceUser } from './device-user.schema';
import { bulkWriteErrors, CallBatcher, isDuplicateKeyError } from '@app/common';

export type DeviceUserRecord = DeviceUser & { _id: unknown };

/** Terminals in one `$or` (the embedded database plans an index union of up to 100 branches). */
const STANDINGS_TERMINALS_PER_QUERY = 100;

interface UpsertRequest {
  sn: string;
  enrollid: number;
  set: Record<string, unknown>;
  unset: string[];
}

/** The only class touching the DeviceUser model. */
@Injectable()
export class StoredUsersRepository {
  /**
   * Upserts asked while the previous ones are in the database, written as one ordered command: each
   * accepted add-user updates the copy, so many terminals answering at once cost one write, not one each.
   */
  private readonly upserts = new CallBatcher<UpsertRequest, true>((batch) => this.writeUpserts(batch));

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
    await this.upserts.add({ sn, enrollid, set, unset });
  }

  /**
   * The upserts in order, through the driver, with what the schema would add (timestamps, the
   * version key on insert): the values are already of the stored types, so the ODM's casting is
   * skipped. A statement that collides with a concurrent insert of the same user is retried alone;
   * the statements after a failed one are written again.
   */
  private async writeUpserts(batch: UpsertRequest[], retryDuplicate = true): Promise<Array<true | Error>> {
    const now = new Date();
    const ops: DriverBulkOperation<Document>[] = batch.map(({ sn, enrollid, set, unset }) => {
      const update: Record<string, unknown> = {
        $set: { ...set, updatedAt: now },
        $setOnInsert: { __v: 0, createdAt: now },
      };
      if (unset.length > 0) update.$unset = Object.fromEntries(unset.map((p) => [p, '']));
      return { updateOne: { filter: { sn, enrollid }, update, upsert: true } };
    });
    try {
      await this.model.collection.bulkWrite(ops, { ordered: true });
      return batch.map(() => true);
    } catch (err) {
      // Ordered: the first refused statement is the only one reported; those after it were not tried.
      const [failed] = [...bulkWriteErrors(err)].sort(([a], [b]) => a - b);
      if (!failed) throw err;
      const [index, error] = failed;
      let outcome: true | Error = error;
      if (retryDuplicate && isDuplicateKeyError(error)) {
        // A concurrent upsert created the user first; the retry (once) updates it.
        outcome = (await this.writeUpserts([batch[index]], false))[0];
      }
      const rest = index + 1 < batch.length ? await this.writeUpserts(batch.slice(index + 1), retryDuplicate) : [];
      return [...batch.slice(0, index).map((): true => true), outcome, ...rest];
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
