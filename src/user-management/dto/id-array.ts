import { Transform } from 'class-transformer';
import { registerDecorator } from 'class-validator';

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
