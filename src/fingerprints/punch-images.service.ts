import { Inject, Injectable } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { ApiError } from '@app/common';
import { createHash } from 'node:crypto';
import { forwardingConfig } from '../config/forwarding.config';
import { decodeBase64Image, type PunchImageMime } from './image-decoding';
import { PunchImageRepository } from './punch-image.repository';
import { PunchImage } from './schemas/punch-image.schema';

const DATA_URL = /^data:([a-z]+\/[a-z0-9.+-]+)(;[a-z0-9=.-]+)*;base64,/i;

/**
 * Decodes the app's `data:image/jpeg;base64,...` photo. 400 for anything that is not a JPEG or PNG
 * data URL, 413 above the decoded size limit.
 */
export function decodeImageDataUrl(value: string, maxBytes: number): { data: Buffer; mime: PunchImageMime } {
  const head = DATA_URL.exec(value);
  if (!head) {
    throw new ApiError(400, 'invalid_image', 'image must be a data URL: data:image/jpeg;base64,... or image/png');
  }
  const declared = head[1].toLowerCase();
  if (declared !== 'image/jpeg' && declared !== 'image/jpg' && declared !== 'image/png') {
    throw new ApiError(400, 'invalid_image', `image type ${declared} is not accepted (JPEG or PNG)`);
  }
  const decoded = decodeBase64Image(value.slice(head[0].length), maxBytes, { lenient: false });
  if (decoded.ok) return { data: decoded.data, mime: decoded.mime };
  if (decoded.tooLarge) throw new ApiError(413, 'image_too_large', `image exceeds ${maxBytes} bytes`, { maxBytes });
  throw new ApiError(400, 'invalid_image', `image ${decoded.reason}`);
}

export interface PunchImageView {
  _id: string;
  mime: string;
  size: number;
  sha256: string;
  data: Buffer;
  createdAt: Date;
}

@Injectable()
export class PunchImagesService {
  constructor(
    private readonly images: PunchImageRepository,
    @Inject(forwardingConfig.KEY) private readonly cfg: ConfigType<typeof forwardingConfig>,
  ) {}

  /** Stores a punch photo (terminal or app) and returns its id; identical bytes share one document. */
  async store(data: Buffer, mime: string): Promise<string> {
    if (!Buffer.isBuffer(data) || data.length === 0) throw new Error('A punch image needs at least one byte');
    const sha256 = createHash('sha256').update(data).digest('hex');
    return this.images.insertOrFind({ data, mime, size: data.length, sha256 });
  }

  /** Validates and stores an app photo given as a data URL (errors are 400/413 ApiErrors). */
  async storeDataUrl(dataUrl: string): Promise<string> {
    const { data, mime } = decodeImageDataUrl(dataUrl, this.cfg.imageMaxBytes);
    return this.store(data, mime);
  }

  async findById(id: string): Promise<PunchImageView | null> {
    const row: PunchImage | null = await this.images.findById(id);
    if (!row) return null;
    return {
      _id: row._id.toHexString(),
      mime: row.mime,
      size: row.size,
      sha256: row.sha256,
      data: row.data,
      createdAt: row.createdAt,
    };
  }
}
