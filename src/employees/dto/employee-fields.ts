import { applyDecorators } from '@nestjs/common';
import { Transform, TransformFnParams } from 'class-transformer';
import { IsEmail, IsString, Matches, MaxLength, ValidateBy, ValidateIf, ValidationOptions } from 'class-validator';
import { Trim } from '@app/common';

export const USERNAME_PATTERN = /^[A-Za-z0-9._-]{3,64}$/;
/** A positive terminal user id without leading zeros, at most 12 digits (what terminals accept). */
export const ENROLL_ID_PATTERN = /^[1-9]\d{0,11}$/;
export const PERMISSION_KEY_PATTERN = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;
export const MAX_PERMISSION_KEYS = 50;

/** Terminals and older clients send enroll ids as numbers: accept whole numbers as their digits. */
export const EnrollIdFromNumber = () =>
  Transform(({ value }: TransformFnParams): unknown =>
    typeof value === 'number' && Number.isSafeInteger(value) ? String(value) : value,
  );

// The field rules that create and update share (listed bottom-up, the order decorators apply in).

/** A terminal user id as digits; a whole number is taken as its digits. */
export const IsEnrollIdText = () =>
  applyDecorators(
    Matches(ENROLL_ID_PATTERN, {
      message: 'enroll_id must be a positive whole number (digits, no leading zero, at most 12)',
    }),
    IsString(),
    EnrollIdFromNumber(),
  );

export const IsUsername = () =>
  applyDecorators(
    Matches(USERNAME_PATTERN, {
      message: 'username must be 3-64 characters: letters, digits, dot, underscore or dash',
    }),
    IsString(),
  );

/** An email address, or the empty string (none). */
export const IsEmailOrEmpty = () =>
  applyDecorators(
    IsEmail({}, { message: 'email must be a valid email address' }),
    ValidateIf((_o: object, v: unknown) => v !== ''),
    MaxLength(254),
    IsString(),
    Trim(),
  );

/** Present means validated, `null` included (unlike @IsOptional, which would let `null` through to the database). */
export const IfPresent = () => ValidateIf((_object: object, value: unknown) => value !== undefined);

/** An object of boolean flags with simple key names (no `$` or `.`, which MongoDB would read as operators or paths). */
export function IsBooleanMap(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isBooleanMap',
      validator: {
        validate(value: unknown): boolean {
          if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
          const entries = Object.entries(value);
          return (
            entries.length <= MAX_PERMISSION_KEYS &&
            entries.every(([key, flag]) => PERMISSION_KEY_PATTERN.test(key) && typeof flag === 'boolean')
          );
        },
        defaultMessage: () =>
          `$property must be an object of true/false flags (at most ${MAX_PERMISSION_KEYS}, keys made of letters, digits and _)`,
      },
    },
    options,
  );
}
