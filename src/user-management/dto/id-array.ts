import { applyDecorators } from '@nestjs/common';
import { Transform } from 'class-transformer';
import { ArrayMaxSize, ArrayNotEmpty, IsArray, IsInt, Max, Min, registerDecorator } from 'class-validator';
import { MAX_ENROLL_ID, MIN_ENROLL_ID } from './enroll-id';

/**
 * Keeps at most `max + 1` elements of an over-long array before validation: the size check still
 * fails (with its own message) but the per-element validators never walk a huge array.
 */
export function TruncateArrayPast(max: number): PropertyDecorator {
  return Transform(({ value }: { value: unknown }) =>
    Array.isArray(value) && value.length > max ? value.slice(0, max + 1) : value,
  );
}

/** No value twice, in linear time (class-validator's ArrayUnique compares every pair). */
export function ArrayDistinct(message: string): PropertyDecorator {
  return (target: object, propertyName: string | symbol) => {
    registerDecorator({
      name: 'arrayDistinct',
      target: target.constructor,
      propertyName: String(propertyName),
      options: { message },
      validator: {
        validate: (value: unknown) => !Array.isArray(value) || new Set(value).size === value.length,
      },
    });
  };
}

/**
 * A non-empty list of at most `max` distinct enroll ids, checked in linear time whatever the size
 * of the array a client sends (delete-users, transfer-users, device-sync plans).
 */
export function EnrollIdList(max: number): PropertyDecorator {
  return applyDecorators(
    TruncateArrayPast(max),
    IsArray(),
    ArrayNotEmpty(),
    ArrayMaxSize(max),
    ArrayDistinct('enrollIds must not contain duplicates'),
    IsInt({ each: true }),
    Min(MIN_ENROLL_ID, { each: true }),
    Max(MAX_ENROLL_ID, { each: true }),
  );
}
