import { Injectable, PipeTransform } from '@nestjs/common';
import { isValidSn } from '@app/device-protocol';
import { ApiError } from '@app/common';

/** A terminal serial number in a path: anything a serial number cannot be is a 400, not a lookup. */
@Injectable()
export class ParseSnPipe implements PipeTransform<unknown, string> {
  transform(value: unknown): string {
    if (!isValidSn(value)) {
      throw new ApiError(400, 'invalid_sn', 'sn must be 1-64 letters, digits, ".", "_" or "-"');
    }
    return value;
  }
}
