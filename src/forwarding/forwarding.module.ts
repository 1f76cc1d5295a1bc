import { HttpModule } from '@nestjs/axios';
import { Module } from '@nestjs/common';
import { ForwardingService } from './forwarding.service';

/** The HR server client (no collections). */
@Module({
  imports: [HttpModule],
  providers: [ForwardingService],
  exports: [ForwardingService],
})
export class ForwardingModule {}
