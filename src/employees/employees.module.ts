import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { AuthModule } from '../auth';
import { ActiveEmployeeGuard } from './active-employee.guard';
import { EmployeesController } from './employees.controller';
import { EmployeesRepository } from './employees.repository';
import { EmployeesService } from './employees.service';
import { Employee, EmployeeSchema } from './schemas/employee.schema';

@Module({
  imports: [AuthModule, MongooseModule.forFeature([{ name: Employee.name, schema: EmployeeSchema }])],
  controllers: [EmployeesController],
  providers: [EmployeesRepository, EmployeesService, ActiveEmployeeGuard],
  exports: [EmployeesService, ActiveEmployeeGuard],
})
export class EmployeesModule {}
