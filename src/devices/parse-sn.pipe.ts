import { Injectable, PipeTransform } from '@nestjs/common';
import { isValidSn } from '@app/device-protocol';
import { invalidSn } from './sn-errors';

/** A terminal serial number in a path: anything a serial number cannot be is a 400, not a lookup. */
@Injectable()
export class ParseSnPipe implements PipeTransform<unknown, string> {
  transform(value: unknown): string {
    if (!isValidSn(value)) throw invalidSn();
    return value;
  }
}
