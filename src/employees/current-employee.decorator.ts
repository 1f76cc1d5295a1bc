import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { EmployeeView } from './employee.view';

/** The employee loaded by ActiveEmployeeGuard (use behind `@EmployeeAuth()`). */
export const CurrentEmployee = createParamDecorator((_data: unknown, ctx: ExecutionContext): EmployeeView => {
  const employee = ctx.switchToHttp().getRequest<{ employee?: EmployeeView }>().employee;
  if (!employee) throw new Error('@CurrentEmployee() used on a route without @EmployeeAuth()');
  return employee;
});
