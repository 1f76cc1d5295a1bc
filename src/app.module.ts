import { Module } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { ScheduleModule } from '@nestjs/schedule';
import { AppValidationPipe, HttpExceptionFilter } from '@app/common';
import { AppConfigModule } from './config/config.module';
import { DatabaseModule } from './database/database.module';
import { FingerprintsModule } from './fingerprints/fingerprints.module';
import { HealthModule } from './health/health.module';

@Module({
  imports: [AppConfigModule, DatabaseModule, ScheduleModule.forRoot(), HealthModule, FingerprintsModule],
  providers: [
    { provide: APP_PIPE, useFactory: () => new AppValidationPipe() },
    { provide: APP_FILTER, useClass: HttpExceptionFilter },
  ],
})
export class AppModule {}
