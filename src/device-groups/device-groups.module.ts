import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { AuthModule } from '../auth';
import { DevicesModule } from '../devices';
import { OperationsModule } from '../operations';
import { DeviceGroupsController } from './device-groups.controller';
import { DeviceGroupsRepository } from './device-groups.repository';
import { DeviceGroupsService } from './device-groups.service';
import { GroupDriftService } from './group-drift.service';
import { GroupPropagationService } from './group-propagation.service';
import { GroupSyncScheduler } from './group-sync.scheduler';
import { RosterReaderService } from './roster-reader.service';
import { DeviceGroup, DeviceGroupSchema } from './schemas/device-group.schema';
import { GroupUserMark, GroupUserMarkSchema } from './schemas/group-user-mark.schema';

/** Terminal groups: membership, user propagation between members, drift. Built on operations and devices. */
@Module({
  imports: [
    AuthModule,
    DevicesModule,
    OperationsModule,
    MongooseModule.forFeature([
      { name: DeviceGroup.name, schema: DeviceGroupSchema },
      { name: GroupUserMark.name, schema: GroupUserMarkSchema },
    ]),
  ],
  controllers: [DeviceGroupsController],
  providers: [
    DeviceGroupsRepository,
    DeviceGroupsService,
    GroupDriftService,
    GroupPropagationService,
    GroupSyncScheduler,
    RosterReaderService,
  ],
  exports: [RosterReaderService, GroupPropagationService],
})
export class DeviceGroupsModule {}
