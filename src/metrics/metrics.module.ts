import { Module } from '@nestjs/common';
import { DevicesModule } from '../devices';
import { FingerprintsModule } from '../fingerprints/fingerprints.module';
import { OperationsModule } from '../operations';
import { MetricsController } from './metrics.controller';
import { MetricsService } from './metrics.service';

@Module({
  imports: [DevicesModule, OperationsModule, FingerprintsModule],
  controllers: [MetricsController],
  providers: [MetricsService],
})
export class MetricsModule {}
