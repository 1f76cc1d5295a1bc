import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { FingerPrintLogRepository } from './fingerprint-log.repository';
import { FingerprintsService } from './fingerprints.service';
import { PunchImageRepository } from './punch-image.repository';
import { PunchImagesService } from './punch-images.service';
import { FINGERPRINT_LOG_MODEL, FingerPrintLogSchema } from './schemas/fingerprint-log.schema';
import { PUNCH_IMAGE_MODEL, PunchImageSchema } from './schemas/punch-image.schema';

@Module({
  imports: [
    MongooseModule.forFeature([
      { name: FINGERPRINT_LOG_MODEL, schema: FingerPrintLogSchema },
      { name: PUNCH_IMAGE_MODEL, schema: PunchImageSchema },
    ]),
  ],
  providers: [FingerPrintLogRepository, FingerprintsService, PunchImageRepository, PunchImagesService],
  exports: [FingerprintsService, PunchImagesService],
})
export class FingerprintsModule {}
