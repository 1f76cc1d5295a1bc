import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { AuthModule } from '../auth';
import { EmployeesModule } from '../employees';
import { ForwardingModule } from '../forwarding';
import { FingerPrintLogRepository } from './fingerprint-log.repository';
import { FingerprintsController } from './fingerprints.controller';
import { FingerprintsService } from './fingerprints.service';
import { ForwardBacklogService } from './forward-backlog.service';
import { ForwardOutboxScheduler } from './forward-outbox.scheduler';
import { ForwardOutboxService } from './forward-outbox.service';
import { PunchImageRepository } from './punch-image.repository';
import { PunchImagesService } from './punch-images.service';
import { PunchRetentionService } from './punch-retention.service';
import { FINGERPRINT_LOG_MODEL, FingerPrintLogSchema } from './schemas/fingerprint-log.schema';
import { PUNCH_IMAGE_MODEL, PunchImageSchema } from './schemas/punch-image.schema';

@Module({
  imports: [
    AuthModule,
    EmployeesModule,
    ForwardingModule,
    MongooseModule.forFeature([
      { name: FINGERPRINT_LOG_MODEL, schema: FingerPrintLogSchema },
      { name: PUNCH_IMAGE_MODEL, schema: PunchImageSchema },
    ]),
  ],
  controllers: [FingerprintsController],
  providers: [
    FingerPrintLogRepository,
    FingerprintsService,
    ForwardOutboxService,
    ForwardOutboxScheduler,
    ForwardBacklogService,
    PunchImageRepository,
    PunchImagesService,
    PunchRetentionService,
  ],
  exports: [FingerprintsService, PunchImagesService, ForwardBacklogService],
})
export class FingerprintsModule {}
