import { Controller, Get, Headers, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { ApiError } from '@app/common';
import type { Response } from 'express';
import { Inject } from '@nestjs/common';
import { timingSafeEqual } from 'node:crypto';
import { opsConfig, type OpsConfig } from '../config/ops.config';
import { MetricsService } from './metrics.service';

const EXAMPLE = [
  '# HELP timmy_terminals_online Terminals registered on this instance and ready for commands',
  '# TYPE timmy_terminals_online gauge',
  'timmy_terminals_online 42',
  '# HELP timmy_punches_total Attendance records received, by source and outcome (stored, duplicate, rejected)',
  '# TYPE timmy_punches_total counter',
  'timmy_punches_total{source="sendlog",outcome="stored"} 1830',
].join('\n');

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Prometheus scrape endpoint, at /metrics (outside /api, where scrapers look by default). */
@ApiTags('metrics')
@Controller('metrics')
export class MetricsController {
  constructor(
    private readonly metrics: MetricsService,
    @Inject(opsConfig.KEY) private readonly cfg: OpsConfig,
  ) {}

  @Get()
  @ApiOperation({
    summary:
      'Prometheus metrics of this instance. No JWT; `Authorization: Bearer <METRICS_TOKEN>` when METRICS_TOKEN is set.',
  })
  @ApiProduces('text/plain')
  @ApiOkResponse({
    description: 'Prometheus text exposition format 0.0.4',
    content: { 'text/plain': { example: EXAMPLE } },
  })
  @ApiUnauthorizedResponse({
    description: 'METRICS_TOKEN is set and the request does not carry it',
    schema: {
      example: { success: false, error: 'unauthorized', message: 'GET /metrics needs the METRICS_TOKEN bearer token' },
    },
  })
  async scrape(@Headers('authorization') authorization: string | undefined, @Res() res: Response): Promise<void> {
    const token = this.cfg.metricsToken;
    if (token !== undefined) {
      const given = /^Bearer (.+)$/i.exec(authorization ?? '')?.[1] ?? '';
      if (!sameSecret(given, token)) {
        throw new ApiError(401, 'unauthorized', 'GET /metrics needs the METRICS_TOKEN bearer token');
      }
    }
    const body = await this.metrics.render();
    res.setHeader('Content-Type', this.metrics.contentType);
    res.send(body);
  }
}
