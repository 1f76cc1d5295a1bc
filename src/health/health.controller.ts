import { Controller, Get, HttpStatus, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { HealthService } from './health.service';

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(private readonly health: HealthService) {}

  @Get()
  @ApiOperation({
    summary: 'Overview: database, terminal gateway and forwarding backlog. No token.',
    description:
      '`degraded` with 200 when the oldest unforwarded punch is older than HEALTH_FORWARD_BACKLOG_MAX_AGE ' +
      '(the HR server is behind, this instance serves); 503 when a dependency is down or the instance is draining.',
  })
  @ApiOkResponse({
    description: 'Serving (status ok, or degraded by the forwarding backlog)',
    schema: {
      example: {
        success: true,
        status: 'ok',
        checks: { database: 'up', gateway: 'up', forwarding: 'up' },
        forwarding: { backlog: 3, oldestAgeSeconds: 4, maxAgeSeconds: 900 },
        uptimeSeconds: 12,
      },
    },
  })
  @ApiServiceUnavailableResponse({
    description: 'A dependency is down, or the instance is shutting down',
    schema: {
      example: {
        success: false,
        status: 'degraded',
        checks: { database: 'down', gateway: 'up', forwarding: 'unknown' },
        uptimeSeconds: 12,
      },
    },
  })
  async check(@Res() res: Response): Promise<void> {
    const report = await this.health.check();
    res.status(report.success ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE).json(report);
  }

  @Get('live')
  @ApiOperation({
    summary: 'Liveness: the process serves HTTP. No token, no dependency checked (restart only when this fails).',
  })
  @ApiOkResponse({ description: 'The process answers', schema: { example: { success: true, status: 'live' } } })
  @ApiServiceUnavailableResponse({
    description: 'Never sent by the app itself: a probe that gets no answer (or a 5xx from a proxy) means not live',
    schema: { example: { success: false, status: 'unreachable' } },
  })
  live(): { success: true; status: 'live' } {
    return { success: true, status: 'live' };
  }

  @Get('ready')
  @ApiOperation({
    summary:
      'Readiness: database reachable, terminal gateway listening, not draining. No token. Balancers route on this.',
  })
  @ApiOkResponse({
    description: 'Ready for traffic',
    schema: { example: { success: true, status: 'ok', checks: { database: 'up', gateway: 'up' }, uptimeSeconds: 12 } },
  })
  @ApiServiceUnavailableResponse({
    description: 'Not ready: a dependency is down, or SIGTERM was received and the instance drains',
    schema: {
      example: { success: false, status: 'draining', checks: { database: 'up', gateway: 'up' }, uptimeSeconds: 40 },
    },
  })
  async ready(@Res() res: Response): Promise<void> {
    const report = await this.health.ready();
    res.status(report.success ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE).json(report);
  }
}
