import { Transform } from 'class-transformer';
import { isISO8601, registerDecorator, ValidationOptions } from 'class-validator';
import { isValidSn, isValidTimeZone } from '@app/device-protocol';

/** Query strings are text: `"2"` becomes 2; anything else is left for the validators to refuse. */
export function ToInt(): PropertyDecorator {
  return Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' && /^\s*-?\d+\s*$/.test(value) ? Number(value) : value,
  );
}

/** Text fields lose surrounding blanks before they are checked (`{ each: true }`: every string of a list). */
export function Trim(opts: { each?: boolean } = {}): PropertyDecorator {
  const trim = (v: unknown): unknown => (typeof v === 'string' ? v.trim() : v);
  return Transform(({ value }: { value: unknown }) => {
    if (!opts.each) return trim(value);
    return Array.isArray(value) ? value.map(trim) : value;
  });
}

/**
 * `"true"`/`"false"` become booleans (and `"1"`/`"0"` where a route has always taken them); anything
 * else is left for `@IsBoolean` to refuse, so a typo is a 400 rather than a silent `false`.
 */
export function ToBoolean(opts: { digits?: boolean } = {}): PropertyDecorator {
  return Transform(({ value }: { value: unknown }) => {
    if (value === 'true' || (opts.digits && value === '1')) return true;
    if (value === 'false' || (opts.digits && value === '0')) return false;
    return value;
  });
}

/** A strict ISO 8601 date or date-time that also names a real instant (`2025-W05` is ISO but no Date). */
export function isInstant(value: unknown): value is string {
  return typeof value === 'string' && isISO8601(value, { strict: true }) && !Number.isNaN(Date.parse(value));
}

export function IsInstant(options?: ValidationOptions): PropertyDecorator {
  return (target: object, propertyName: string | symbol) => {
    registerDecorator({
      name: 'isInstant',
      target: target.constructor,
      propertyName: String(propertyName),
      options: { message: `${String(propertyName)} must be a valid ISO 8601 date string`, ...options },
      validator: { validate: isInstant },
    });
  };
}

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

/**
 * A time filter from validated `from`/`to` query values: `from` inclusive, `to` inclusive, except a
 * bare date, which covers that whole UTC day (`to` is then the first instant excluded).
 */
export function instantRange(from?: string, to?: string): { from?: Date; to?: Date; toExclusive?: boolean } {
  const out: { from?: Date; to?: Date; toExclusive?: boolean } = {};
  if (from) out.from = new Date(from);
  if (to) {
    const end = new Date(to);
    if (DATE_ONLY.test(to)) {
      out.to = new Date(end.getTime() + 86_400_000);
      out.toExclusive = true;
    } else out.to = end;
  }
  return out;
}

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

/** A valid zone in its canonical spelling (`asia/baghdad` is kept as `Asia/Baghdad`); others left to refuse. */
export function ToCanonicalTimeZone(): PropertyDecorator {
  return Transform(({ value }: { value: unknown }) =>
    isValidTimeZone(value) ? new Intl.DateTimeFormat('en-US', { timeZone: value }).resolvedOptions().timeZone : value,
  );
}

/** A terminal serial number: 1-64 letters, digits, ".", "_" or "-" (the protocol library's rule). */
export function IsSn(options?: ValidationOptions): PropertyDecorator {
  return (target: object, propertyName: string | symbol) => {
    registerDecorator({
      name: 'isSn',
      target: target.constructor,
      propertyName: String(propertyName),
      options: { message: `${String(propertyName)} must be 1-64 letters, digits, ".", "_" or "-"`, ...options },
      validator: { validate: (value: unknown) => isValidSn(value) },
    });
  };
}
