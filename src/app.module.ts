import { Module } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { ScheduleModule } from '@nestjs/schedule';
import { AppValidationPipe, HttpExceptionFilter } from '@app/common';
import { AuthModule } from './auth';
import { AppConfigModule } from './config/config.module';
import { DatabaseModule } from './database/database.module';
import { DeviceGroupsModule } from './device-groups';
import { DeviceSyncModule } from './device-sync';
import { UserManagementModule } from './user-management/user-management.module';
import { DevicesModule } from './devices';
import { EmployeesModule } from './employees';
import { FingerprintsModule } from './fingerprints/fingerprints.module';
import { HealthModule } from './health/health.module';
import { LoggingModule } from './logging/logging.module';
import { MetricsModule } from './metrics';
import { OperationsModule } from './operations';

@Module({
  imports: [
    AppConfigModule,
    LoggingModule,
    DatabaseModule,
    ScheduleModule.forRoot(),
    HealthModule,
    FingerprintsModule,
    DevicesModule,
    AuthModule,
    EmployeesModule,
    UserManagementModule,
    OperationsModule,
    DeviceGroupsModule,
    DeviceSyncModule,
    MetricsModule,
  ],
  providers: [
    { provide: APP_PIPE, useFactory: () => new AppValidationPipe() },
    { provide: APP_FILTER, useClass: HttpExceptionFilter },
  ],
})
export class AppModule {}
