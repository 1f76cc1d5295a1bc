import { Module } from '@nestjs/common';
import { AuthModule } from '../auth';
import { DevicesModule } from '../devices';
import { OperationsModule } from '../operations';
import { UserManagementController } from './user-management.controller';
import { TransferController } from './transfer.controller';
import { TransferReconciler } from './transfer-reconciler';
import { TransferService } from './transfer.service';
import { UserManagementService } from './user-management.service';

/** User management on terminals (list, enrol, delete, transfer, clean log), built on the operation queue. */
@Module({
  imports: [AuthModule, DevicesModule, OperationsModule],
  controllers: [UserManagementController, TransferController],
  providers: [UserManagementService, TransferService, TransferReconciler],
})
export class UserManagementModule {}
