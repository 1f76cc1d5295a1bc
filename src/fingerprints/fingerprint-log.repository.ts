import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { Model, Types } from 'mongoose';
import { FINGERPRINT_LOG_MODEL, FingerPrintLog } from './schemas/fingerprint-log.schema';

export type FingerPrintLogRecord = FingerPrintLog;
export type NewFingerPrintLog = Omit<FingerPrintLog, 'createdAt' | 'updatedAt'>;

const DUPLICATE_KEY = 11000;

interface WriteErrorLike {
  code?: number;
  index?: number;
}

function writeErrorsOf(err: unknown): WriteErrorLike[] | null {
  if (typeof err !== 'object' || err === null || !('writeErrors' in err)) return null;
  const list: unknown = err.writeErrors;
  if (Array.isArray(list)) return list as WriteErrorLike[];
  return list && typeof list === 'object' ? [list] : null;
}

@Injectable()
export class FingerPrintLogRepository {
  constructor(@InjectModel(FINGERPRINT_LOG_MODEL) private readonly model: Model<FingerPrintLog>) {}

  /**
   * One unordered insert for a whole frame. Returns the positions refused as duplicates of
   * `dedupe_key`; any other write error is thrown (the caller must not acknowledge).
   */
  async insertManyDeduplicated(docs: NewFingerPrintLog[]): Promise<{ duplicateIndexes: Set<number> }> {
    const duplicateIndexes = new Set<number>();
    if (docs.length === 0) return { duplicateIndexes };
    const now = new Date();
    const rows = docs.map((d) => ({ ...d, createdAt: now, updatedAt: now }));
    try {
      await this.model.collection.insertMany(rows, { ordered: false });
    } catch (err) {
      const writeErrors = writeErrorsOf(err);
      if (!writeErrors || writeErrors.length === 0) throw err;
      for (const we of writeErrors) {
        if (we.code !== DUPLICATE_KEY || typeof we.index !== 'number') throw err;
        duplicateIndexes.add(we.index);
      }
      // A write concern error beside duplicate errors still means "not durably written".
      if ((err as { writeConcernErrors?: unknown[] }).writeConcernErrors?.length) throw err;
    }
    return { duplicateIndexes };
  }

  async insertOne(doc: NewFingerPrintLog): Promise<FingerPrintLogRecord> {
    const now = new Date();
    const row = { ...doc, createdAt: now, updatedAt: now };
    await this.model.collection.insertOne(row);
    return row;
  }

  async idsByDedupeKeys(keys: string[]): Promise<Map<string, string>> {
    const rows = await this.model
      .find({ dedupe_key: { $in: keys } }, { _id: 1, dedupe_key: 1 })
      .lean<Array<{ _id: Types.ObjectId; dedupe_key: string }>>()
      .exec();
    return new Map(rows.map((r) => [r.dedupe_key, r._id.toHexString()]));
  }

  async findById(id: string): Promise<FingerPrintLogRecord | null> {
    if (!Types.ObjectId.isValid(id)) return null;
    return this.model.findById(id).lean<FingerPrintLogRecord>().exec();
  }
}
