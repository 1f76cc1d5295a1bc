import { Injectable, PipeTransform } from '@nestjs/common';
import { ApiError } from './errors';

const OBJECT_ID = /^[0-9a-fA-F]{24}$/;

export function isObjectIdString(value: unknown): value is string {
  return typeof value === 'string' && OBJECT_ID.test(value);
}

/** Path ids: a malformed id is a 400, never a database cast error (500). */
@Injectable()
export class ParseObjectIdPipe implements PipeTransform<unknown, string> {
  transform(value: unknown): string {
    if (!isObjectIdString(value)) throw new ApiError(400, 'invalid_id', 'The id must be a 24-character hex ObjectId');
    return value.toLowerCase();
  }
}
