import { Controller, Get, HttpStatus, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { HealthService } from './health.service';

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(private readonly health: HealthService) {}

  @Get()
  @ApiOperation({ summary: 'Liveness and readiness: database reachable, terminal gateway listening. No token.' })
  @ApiOkResponse({
    description: 'Everything is up',
    schema: { example: { success: true, status: 'ok', checks: { database: 'up', gateway: 'up' }, uptimeSeconds: 12 } },
  })
  @ApiServiceUnavailableResponse({
    description: 'A dependency is down',
    schema: { example: { success: false, status: 'degraded', checks: { database: 'down', gateway: 'up' } } },
  })
  async check(@Res() res: Response): Promise<void> {
    const report = await this.health.check();
    res.status(report.success ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE).json(report);
  }
}
