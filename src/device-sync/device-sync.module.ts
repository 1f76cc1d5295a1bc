import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { AuthModule } from '../auth';
import { DeviceGroupsModule } from '../device-groups';
import { DevicesModule } from '../devices';
import { OperationsModule } from '../operations';
import { DeviceSyncController } from './device-sync.controller';
import { DeviceSyncReconciler } from './device-sync.reconciler';
import { DeviceSyncRepository } from './device-sync.repository';
import { DeviceSyncService } from './device-sync.service';
import { SyncItem, SyncItemSchema } from './schemas/sync-item.schema';
import { SyncPlan, SyncPlanSchema } from './schemas/sync-plan.schema';

/** Repair only what differs between terminals (plan, then apply), above device-groups and operations. */
@Module({
  imports: [
    AuthModule,
    DevicesModule,
    OperationsModule,
    DeviceGroupsModule,
    MongooseModule.forFeature([
      { name: SyncPlan.name, schema: SyncPlanSchema },
      { name: SyncItem.name, schema: SyncItemSchema },
    ]),
  ],
  controllers: [DeviceSyncController],
  providers: [DeviceSyncRepository, DeviceSyncService, DeviceSyncReconciler],
})
export class DeviceSyncModule {}
