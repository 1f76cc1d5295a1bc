import { applyDecorators } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';

/** Example error bodies for Swagger, shared by every module's routes. */
export const ERROR_EXAMPLES = {
  unauthorized: { success: false, error: 'unauthorized', message: 'Missing bearer token' },
  forbidden: { success: false, error: 'forbidden', message: 'This route requires a ADMIN token' },
  tooManyAttempts: {
    success: false,
    error: 'too_many_attempts',
    message: 'Too many failed login attempts; try again later',
  },
  invalidId: { success: false, error: 'invalid_id', message: 'The id must be a 24-character hex ObjectId' },
} as const;

export function validationExample(field: string, message: string): Record<string, unknown> {
  return {
    success: false,
    error: 'validation_failed',
    message: `${field}: ${message}`,
    errors: [{ field, messages: [message] }],
  };
}

/** One documented error answer with its example body. */
export function ApiErrorResponse(status: number, description: string, example: unknown): MethodDecorator {
  return applyDecorators(ApiResponse({ status, description, schema: { example } }));
}
