import { ArgumentMetadata, ValidationError, ValidationPipe, ValidationPipeOptions } from '@nestjs/common';
import { FieldError, ValidationFailedError } from './errors';

const LENIENT = Symbol('lenientBody');

/**
 * Marks a DTO whose unknown keys are dropped instead of refused: bodies that terminals, gateways
 * and the mobile app send carry extra fields we do not control.
 */
export function LenientBody(): ClassDecorator {
  return (target) => {
    Reflect.defineMetadata(LENIENT, true, target);
  };
}

function isLenient(object: object): boolean {
  return Reflect.getMetadata(LENIENT, object.constructor) === true;
}

/** "must be an array" says more about `"record": "garbage"` than "no more than 1000 elements". */
function typeErrorsFirst(messages: string[]): string[] {
  const isTypeError = (m: string) => /must be (a|an) /.test(m);
  return [...messages.filter(isTypeError), ...messages.filter((m) => !isTypeError(m))];
}

/** A report names at most this many fields: enough to fix a request, bounded whatever its size. */
export const MAX_REPORTED_FIELD_ERRORS = 100;

/**
 * Field errors in document order, found without recursion (an explicit stack) and without spreading
 * large arrays into calls, so neither deep nor wide input can overflow the stack.
 */
export function flattenValidationErrors(errors: ValidationError[], parent = ''): FieldError[] {
  const out: FieldError[] = [];
  const stack: { error: ValidationError; parent: string }[] = [];
  for (let i = errors.length - 1; i >= 0; i--) stack.push({ error: errors[i], parent });
  while (stack.length > 0 && out.length < MAX_REPORTED_FIELD_ERRORS) {
    const { error, parent: at } = stack.pop()!;
    const field = at ? `${at}.${error.property}` : error.property;
    if (error.constraints) out.push({ field, messages: typeErrorsFirst(Object.values(error.constraints)) });
    const children = error.children ?? [];
    for (let i = children.length - 1; i >= 0; i--) stack.push({ error: children[i], parent: field });
  }
  return out;
}

/**
 * The global pipe: strict whitelist on bodies, except DTOs marked with @LenientBody(). Query strings
 * drop unknown keys instead (a cache-buster such as `?_=123` must not break a listing), while a bad
 * value of a known key is still a 400.
 */
export class AppValidationPipe extends ValidationPipe {
  private readonly queryPipe: ValidationPipe;

  constructor(options: ValidationPipeOptions = {}) {
    const settings: ValidationPipeOptions = {
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      exceptionFactory: (errors) => new ValidationFailedError(flattenValidationErrors(errors)),
      ...options,
    };
    super(settings);
    this.queryPipe = new ValidationPipe({ ...settings, forbidNonWhitelisted: false });
  }

  override transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type === 'query') return this.queryPipe.transform(value, metadata) as Promise<unknown>;
    return super.transform(value, metadata) as Promise<unknown>;
  }

  protected override validate(
    object: object,
    validatorOptions?: Parameters<ValidationPipe['validate']>[1],
  ): ReturnType<ValidationPipe['validate']> {
    if (isLenient(object)) {
      return super.validate(object, { ...validatorOptions, forbidNonWhitelisted: false });
    }
    return super.validate(object, validatorOptions);
  }
}
