import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { ApiError } from '@app/common';
import { AuthUser, Role } from '../auth';
import type { EmployeeView } from './employee.view';
import { appAccessRefusal, EmployeesService } from './employees.service';

export interface EmployeeRequest {
  user?: AuthUser;
  employee?: EmployeeView;
}

/**
 * Runs after JwtAuthGuard and RolesGuard: a valid employee token only counts while its employee
 * still exists, is active and may use the app, so deactivating or deleting someone takes effect at
 * once. The employee is put on the request for `@CurrentEmployee()`.
 */
@Injectable()
export class ActiveEmployeeGuard implements CanActivate {
  constructor(private readonly employees: EmployeesService) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<EmployeeRequest>();
    const user = request.user;
    if (!user) throw new ApiError(401, 'unauthorized', 'Missing bearer token');
    if (user.role !== Role.Employee) throw new ApiError(403, 'forbidden', 'This route requires a EMPLOYEE token');
    const employee = await this.employees.findById(user.sub);
    if (!employee || employee.owner !== user.owner) {
      throw new ApiError(401, 'unauthorized', 'The employee of this token no longer exists');
    }
    const refusal = appAccessRefusal(employee);
    if (refusal) throw refusal;
    request.employee = employee;
    return true;
  }
}
