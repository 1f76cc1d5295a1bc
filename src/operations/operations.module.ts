import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { AuthModule } from '../auth';
import {
  DeviceConnectionRegistry,
  DevicesModule,
  DevicesService,
  StoredUsersService,
  TerminalFieldService,
  TerminalLogsService,
} from '../devices';
import { DeviceCommandController } from './device-command.controller';
import { LogPullExecutor } from './executors/log-pull.executor';
import { OperationExecutors } from './executors/operation-executors';
import { SingleCommandExecutor } from './executors/single-command.executor';
import { UserListExecutor } from './executors/user-list.executor';
import { OPERATION_CLOCK, systemClock } from './operation-clock';
import { OperationDependencies } from './operation-dependencies';
import { OperationDispatcher } from './operation-dispatcher';
import { OperationEvents } from './operation-events';
import {
  CATCH_UP_MEMORY,
  DEVICE_USER_STORE,
  TERMINAL_DIRECTORY,
  TERMINAL_LINK,
  TERMINAL_LOG_STORE,
} from './operation-ports';
import { OperationRetryScheduler } from './operation-retry.scheduler';
import { OperationsController } from './operations.controller';
import { OperationsRepository } from './operations.repository';
import { OperationsService } from './operations.service';
import { DeviceCommandService } from './device-command.service';
import { OperationCatchUpService } from './operation-catch-up.service';
import { OperationQueriesService } from './operation-queries.service';
import { OperationRetentionService } from './operation-retention.service';
import { OperationWaitsService } from './operation-waits.service';
import { ParentOperationsService } from './parent-operations.service';
import { OperationDrainService } from './operation-drain.service';
import { QueueStatsService } from './queue-stats.service';
import { QueueWakeRepository } from './queue-wake.repository';
import { QueueWakeService } from './queue-wake.service';
import { OPERATION_MODEL, OperationSchema } from './schemas/operation.schema';

@Module({
  imports: [AuthModule, DevicesModule, MongooseModule.forFeature([{ name: OPERATION_MODEL, schema: OperationSchema }])],
  controllers: [OperationsController, DeviceCommandController],
  providers: [
    { provide: TERMINAL_LINK, useExisting: DeviceConnectionRegistry },
    { provide: TERMINAL_DIRECTORY, useExisting: DevicesService },
    { provide: DEVICE_USER_STORE, useExisting: StoredUsersService },
    { provide: TERMINAL_LOG_STORE, useExisting: TerminalLogsService },
    { provide: CATCH_UP_MEMORY, useExisting: TerminalFieldService },
    { provide: OPERATION_CLOCK, useValue: systemClock },
    OperationsRepository,
    OperationEvents,
    OperationDependencies,
    SingleCommandExecutor,
    UserListExecutor,
    LogPullExecutor,
    OperationExecutors,
    OperationDispatcher,
    OperationsService,
    OperationWaitsService,
    ParentOperationsService,
    OperationQueriesService,
    OperationCatchUpService,
    OperationRetentionService,
    DeviceCommandService,
    OperationRetryScheduler,
    QueueWakeRepository,
    QueueWakeService,
    OperationDrainService,
    QueueStatsService,
  ],
  exports: [
    OperationsService,
    OperationWaitsService,
    ParentOperationsService,
    OperationQueriesService,
    OperationEvents,
    OperationDrainService,
    QueueStatsService,
  ],
})
export class OperationsModule {}
