export { EmployeesModule } from './employees.module';
export { EmployeesService } from './employees.service';
export { ActiveEmployeeGuard } from './active-employee.guard';
export { EmployeeAuth } from './employee-auth.decorator';
export { CurrentEmployee } from './current-employee.decorator';
export type { EmployeeRef, EmployeeView } from './employee.view';
