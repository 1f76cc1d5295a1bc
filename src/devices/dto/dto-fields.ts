import { Transform } from 'class-transformer';
import { registerDecorator, ValidationOptions } from 'class-validator';
import { isValidTimeZone } from '@app/device-protocol';

/** Terminals and gateways send numbers as strings too (`"enrollid":"101072"`). */
export function ToNumber(): PropertyDecorator {
  return Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' && /^\s*[+-]?(\d+\.?\d*|\.\d+)\s*$/.test(value) ? Number(value) : value,
  );
}

export function IsTimeZone(options?: ValidationOptions): PropertyDecorator {
  return (target: object, propertyName: string | symbol) => {
    registerDecorator({
      name: 'isTimeZone',
      target: target.constructor,
      propertyName: String(propertyName),
      options: { message: `${String(propertyName)} must be an IANA time zone such as Asia/Baghdad`, ...options },
      validator: { validate: (value: unknown) => isValidTimeZone(value) },
    });
  };
}
