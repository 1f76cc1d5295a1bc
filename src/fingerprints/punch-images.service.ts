import { Inject, Injectable } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { ApiError } from '@app/common';
import { createHash } from 'node:crypto';
import { forwardingConfig } from '../config/forwarding.config';
import { PunchImageRepository } from './punch-image.repository';
import { PunchImage } from './schemas/punch-image.schema';

export type PunchImageMime = 'image/jpeg' | 'image/png';

const DATA_URL = /^data:([a-z]+\/[a-z0-9.+-]+)(;[a-z0-9=.-]+)*;base64,/i;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** The format the bytes really are, whatever the sender claimed. */
export function sniffImageMime(data: Buffer): PunchImageMime | null {
  if (data.length >= 3 && data[0] === 0xff && data[1] === 0xd8 && data[2] === 0xff) return 'image/jpeg';
  const png = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (data.length >= png.length && png.every((b, i) => data[i] === b)) return 'image/png';
  return null;
}

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
  const base64 = value.slice(head[0].length).replace(/\s+/g, '');
  // Decoded size is known before decoding: refuse huge photos without allocating them.
  const padding = base64.endsWith('==') ? 2 : base64.endsWith('=') ? 1 : 0;
  const decodedSize = Math.floor((base64.length * 3) / 4) - padding;
  if (decodedSize > maxBytes) {
    throw new ApiError(413, 'image_too_large', `image exceeds ${maxBytes} bytes`, { maxBytes });
  }
  if (base64.length === 0 || base64.length % 4 !== 0 || !BASE64.test(base64)) {
    throw new ApiError(400, 'invalid_image', 'image is not valid base64');
  }
  const data = Buffer.from(base64, 'base64');
  const mime = sniffImageMime(data);
  if (!mime) throw new ApiError(400, 'invalid_image', 'image content is not a JPEG or PNG picture');
  return { data, mime };
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

  get maxBytes(): number {
    return this.cfg.imageMaxBytes;
  }

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
