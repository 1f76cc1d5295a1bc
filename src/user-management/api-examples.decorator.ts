import { applyDecorators } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';

/** One documented status with several named example bodies (e.g. 409 offline vs. user exists). */
export function ApiErrorExamples(
  status: number,
  description: string,
  examples: Record<string, unknown>,
): MethodDecorator {
  const named = Object.fromEntries(Object.entries(examples).map(([name, value]) => [name, { value }]));
  return applyDecorators(ApiResponse({ status, description, content: { 'application/json': { examples: named } } }));
}
