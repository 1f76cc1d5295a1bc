import { Global, Module } from '@nestjs/common';
import { FingerprintsModule } from '../fingerprints/fingerprints.module';
import { HealthController } from './health.controller';
import { HealthService } from './health.service';

/** Global so that any module (the gateway) can register an indicator without an import cycle. */
@Global()
@Module({
  imports: [FingerprintsModule],
  controllers: [HealthController],
  providers: [HealthService],
  exports: [HealthService],
})
export class HealthModule {}
