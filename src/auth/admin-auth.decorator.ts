import { applyDecorators, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiForbiddenResponse, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { ERROR_EXAMPLES } from './api-error-docs';
import { JwtAuthGuard } from './jwt-auth.guard';
import { Role } from './role.enum';
import { Roles } from './roles.decorator';
import { RolesGuard } from './roles.guard';

/** Admin token required: JWT check, ADMIN role, and the Swagger bearer scheme with the 401/403 answers. */
export function AdminAuth(): MethodDecorator & ClassDecorator {
  return applyDecorators(
    UseGuards(JwtAuthGuard, RolesGuard),
    Roles(Role.Admin),
    ApiBearerAuth(),
    ApiUnauthorizedResponse({
      description:
        'No token, or a malformed, expired, wrongly signed or unsigned one (error unauthorized); a token issued ' +
        "before the admin's last password change (error token_revoked)",
      schema: { example: ERROR_EXAMPLES.unauthorized },
    }),
    ApiForbiddenResponse({
      description:
        'A valid token of another role (an employee token, error forbidden); in production, the token of a login ' +
        'with the default admin password anywhere but POST /api/auth/change-password (error password_change_required)',
      schema: { example: ERROR_EXAMPLES.forbidden },
    }),
  );
}
