import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { Model } from 'mongoose';
import { createHash } from 'node:crypto';
import { isDuplicateKeyError } from '@app/common';
import { RejectedRecord } from './schemas/rejected-record.schema';

export interface NewRejectedRecord {
  sn: string;
  raw: unknown;
  reason: string;
  source: string;
}
export type RejectedRecordRow = Omit<RejectedRecord, 'dedupeKey'> & { _id: unknown; receivedAt: Date };

function dedupeKeyOf(rec: NewRejectedRecord): string {
  return createHash('sha256')
    .update(JSON.stringify([rec.sn, rec.raw ?? null]))
    .digest('base64url');
}

/** The only class touching the RejectedRecord model. */
@Injectable()
export class RejectedRecordsRepository {
  constructor(@InjectModel(RejectedRecord.name) private readonly model: Model<RejectedRecord>) {}

  /**
   * Stores each record once per terminal (a resent frame adds nothing), in one unordered write
   * whatever the number of records; resolves when written.
   */
  async insertDeduplicated(records: NewRejectedRecord[]): Promise<number> {
    if (records.length === 0) return 0;
    const receivedAt = new Date();
    const ops = records.map((rec) => {
      const dedupeKey = dedupeKeyOf(rec);
      return {
        updateOne: {
          filter: { dedupeKey },
          update: { $setOnInsert: { ...rec, dedupeKey, receivedAt } },
          upsert: true,
        },
      };
    });
    try {
      return (await this.model.collection.bulkWrite(ops, { ordered: false })).upsertedCount;
    } catch (err) {
      // Two writers inserting the same record at once: one wins, the other's duplicate is no loss.
      const e = err as { writeErrors?: unknown[]; result?: { upsertedCount?: number } };
      const writeErrors = Array.isArray(e.writeErrors) ? e.writeErrors : [];
      if (writeErrors.length === 0 || !writeErrors.every(isDuplicateKeyError)) throw err;
      return e.result?.upsertedCount ?? 0;
    }
  }

  async countBySn(sn: string): Promise<number> {
    return this.model.countDocuments({ sn }).exec();
  }

  async listBySn(sn: string, skip: number, limit: number): Promise<{ total: number; items: RejectedRecordRow[] }> {
    const [total, items] = await Promise.all([
      this.countBySn(sn),
      this.model
        .find({ sn }, { dedupeKey: 0 })
        .sort({ receivedAt: -1, _id: -1 })
        .skip(skip)
        .limit(limit)
        .lean<RejectedRecordRow[]>()
        .exec(),
    ]);
    return { total, items };
  }
}
