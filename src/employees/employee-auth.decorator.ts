import { applyDecorators, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiForbiddenResponse, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { JwtAuthGuard, Role, Roles, RolesGuard } from '../auth';
import { ActiveEmployeeGuard } from './active-employee.guard';
import { ACCOUNT_INACTIVE_MESSAGE } from './employees.service';

/**
 * Employee token required, of an employee who still exists, is active and may use the app.
 * The module of the controller must import EmployeesModule (the guard needs EmployeesService).
 */
export function EmployeeAuth(): MethodDecorator & ClassDecorator {
  return applyDecorators(
    UseGuards(JwtAuthGuard, RolesGuard, ActiveEmployeeGuard),
    Roles(Role.Employee),
    ApiBearerAuth(),
    ApiUnauthorizedResponse({
      description:
        'No token, a bad/expired/unsigned one, or the employee was deleted (error unauthorized); a token issued ' +
        "before the employee's last password change or reset (error token_revoked)",
      schema: {
        example: { success: false, error: 'unauthorized', message: 'The employee of this token no longer exists' },
      },
    }),
    ApiForbiddenResponse({
      description:
        'An admin token (error forbidden), a deactivated employee (account_inactive) or one without can_login_app (app_login_not_allowed)',
      schema: { example: { success: false, error: 'account_inactive', message: ACCOUNT_INACTIVE_MESSAGE } },
    }),
  );
}
