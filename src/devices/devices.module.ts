import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { AuthModule } from '../auth';
import { EmployeesModule } from '../employees';
import { FingerprintsModule } from '../fingerprints';
import { DeviceConnectionRegistry } from './device-connection.registry';
import { DeviceLogImageBudgetService } from './device-log-image-budget.service';
import { DeviceLogImageUsageRepository } from './device-log-image-usage.repository';
import { DeviceLogLimitsGuard } from './device-log-limits.guard';
import { DeviceLogTokenGuard } from './device-log-token.guard';
import { DeviceLogController } from './device-log.controller';
import { DeviceRegistrationController } from './device-registration.controller';
import { DeviceLogService } from './device-log.service';
import { StoredUsersRepository } from './stored-users/stored-users.repository';
import { StoredUsersService } from './stored-users/stored-users.service';
import { DevicesController } from './devices.controller';
import { DevicesRepository } from './devices.repository';
import { DevicesService } from './devices.service';
import { DoorEventsRepository } from './door-events.repository';
import { Device, DeviceSchema } from './schemas/device.schema';
import { DeviceLogImageUsage, DeviceLogImageUsageSchema } from './schemas/device-log-image-usage.schema';
import { DeviceUser, DeviceUserSchema } from './stored-users/device-user.schema';
import { DoorEvent, DoorEventSchema } from './schemas/door-event.schema';
import { RejectedRecord, RejectedRecordSchema } from './schemas/rejected-record.schema';
import { RejectedRecordsRepository } from './rejected-records.repository';
import { TerminalFieldService } from './terminal-field.service';
import { TerminalRecordsService } from './terminal-records.service';
import { TerminalLogsService } from './terminal-logs.service';
import { TerminalRequestsService } from './terminal-requests.service';
import { TerminalTrustService } from './terminal-trust.service';
import { DoorAccessService } from './door-access.service';
import { TerminalGateway } from './terminal.gateway';

@Module({
  imports: [
    AuthModule,
    FingerprintsModule,
    EmployeesModule,
    MongooseModule.forFeature([
      { name: Device.name, schema: DeviceSchema },
      { name: DoorEvent.name, schema: DoorEventSchema },
      { name: DeviceUser.name, schema: DeviceUserSchema },
      { name: RejectedRecord.name, schema: RejectedRecordSchema },
      { name: DeviceLogImageUsage.name, schema: DeviceLogImageUsageSchema },
    ]),
  ],
  controllers: [DevicesController, DeviceRegistrationController, DeviceLogController],
  providers: [
    DeviceConnectionRegistry,
    DevicesRepository,
    DevicesService,
    DoorEventsRepository,
    StoredUsersRepository,
    StoredUsersService,
    TerminalLogsService,
    TerminalRequestsService,
    TerminalTrustService,
    DoorAccessService,
    TerminalGateway,
    DeviceLogService,
    DeviceLogTokenGuard,
    DeviceLogLimitsGuard,
    DeviceLogImageUsageRepository,
    DeviceLogImageBudgetService,
    RejectedRecordsRepository,
    TerminalFieldService,
    TerminalRecordsService,
  ],
  exports: [
    DeviceConnectionRegistry,
    DevicesService,
    StoredUsersService,
    TerminalLogsService,
    TerminalGateway,
    TerminalFieldService,
  ],
})
export class DevicesModule {}
