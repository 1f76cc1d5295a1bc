import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { Model, Types } from 'mongoose';
import { PUNCH_IMAGE_MODEL, PunchImage } from './schemas/punch-image.schema';
import { isDuplicateKeyError } from '@app/common';

@Injectable()
export class PunchImageRepository {
  constructor(@InjectModel(PUNCH_IMAGE_MODEL) private readonly model: Model<PunchImage>) {}

  /** Inserts the photo unless the same bytes are stored already; returns the id either way. */
  async insertOrFind(image: Omit<PunchImage, '_id' | 'createdAt'>): Promise<string> {
    const existing = await this.idBySha256(image.sha256);
    if (existing) return existing;
    const _id = new Types.ObjectId();
    try {
      await this.model.collection.insertOne({ _id, ...image, createdAt: new Date() });
      return _id.toHexString();
    } catch (err) {
      if (!isDuplicateKeyError(err)) throw err;
      const raced = await this.idBySha256(image.sha256);
      if (!raced) throw err;
      return raced;
    }
  }

  async findById(id: string): Promise<PunchImage | null> {
    if (!Types.ObjectId.isValid(id)) return null;
    const row = await this.model.findById(id).lean<PunchImage>().exec();
    if (!row) return null;
    // lean() hands back BSON Binary for Buffer fields; callers want a Buffer.
    const data = row.data as unknown;
    return { ...row, data: Buffer.isBuffer(data) ? data : Buffer.from((data as { buffer: Uint8Array }).buffer) };
  }

  private async idBySha256(sha256: string): Promise<string | null> {
    const row = await this.model.findOne({ sha256 }, { _id: 1 }).lean<{ _id: Types.ObjectId }>().exec();
    return row ? row._id.toHexString() : null;
  }
}
