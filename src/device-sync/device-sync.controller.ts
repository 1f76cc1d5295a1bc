import { Body, Controller, HttpCode, HttpStatus, Post } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AdminAuth, ApiErrorResponse, AuthUser, CurrentUser, validationExample } from '../auth';
import { ApiErrorExamples } from '../user-management/api-examples.decorator';
import { ApplySyncDto, checkPlanSource, PlanSyncDto } from './dto/device-sync.dto';
import { DeviceSyncService } from './device-sync.service';

const PLAN_ID = '675a1b2c3d4e5f6a7b8c9d20';
const EX = {
  plan: {
    success: true,
    plan: {
      _id: PLAN_ID,
      fromSn: 'ZXRE06022863',
      fromBackup: false,
      toSn: 'TYSG18086518',
      missing: [1004, 1007],
      extra: [2001],
      differing: [{ enrollid: 1012, backupnums: [0, 11] }],
      counts: { missing: 2, extra: 1, differing: 1, pushes: 7, unpushable: 0 },
      createdAt: '2026-12-06T04:20:00.000Z',
    },
  },
  apply: { success: true, opId: '675a1b2c3d4e5f6a7b8c9d30', planId: PLAN_ID, toSn: 'TYSG18086518', total: 8 },
  offline: { success: false, error: 'device_offline_or_not_registered' },
  badSource: { success: false, error: 'invalid_source', message: 'Give either fromSn or fromBackup: true' },
  stale: {
    success: false,
    error: 'plan_stale',
    message: 'The users of TYSG18086518 changed since the plan was made; make a new plan',
    planId: PLAN_ID,
  },
  applied: {
    success: false,
    error: 'plan_already_applied',
    message: 'This plan was applied already',
    opId: '675a1b2c3d4e5f6a7b8c9d30',
  },
  notFound: { success: false, error: 'plan_not_found', message: 'No device-sync plan with this id' },
  timeout: { success: false, error: 'device_timeout', opId: '675a1b2c3d4e5f6a7b8c9d10' },
  readFailed: {
    success: false,
    error: 'device_command_failed',
    message: 'Reading the users of TYSG18086518 failed (device_error: reason 1)',
    opId: '675a1b2c3d4e5f6a7b8c9d10',
    status: 'failed',
  },
};

@ApiTags('device sync')
@AdminAuth()
@Controller('device-sync')
export class DeviceSyncController {
  constructor(private readonly sync: DeviceSyncService) {}

  @Post('plan')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Plan a repair: what a terminal lacks, holds in excess or holds differently. Admin token.',
    description:
      'Reads the rosters and credentials fresh (one queued `getuserlist` per terminal, both must be online) and ' +
      'compares users by enroll id and credentials by a hash of each record. With `fromSn` the target should hold ' +
      "what that terminal holds; with `fromBackup: true`, what the server's stored copy of the target held before " +
      'this read (a wiped or replaced unit). Nothing is pushed yet.',
  })
  @ApiBody({
    type: PlanSyncDto,
    examples: {
      fromTerminal: { value: { fromSn: 'ZXRE06022863', toSn: 'TYSG18086518' } },
      fromBackup: { value: { fromBackup: true, toSn: 'TYSG18086518' } },
    },
  })
  @ApiOkResponse({ description: 'The plan (kept for apply)', schema: { example: EX.plan } })
  @ApiErrorResponse(400, 'Neither or both of fromSn and fromBackup, or an invalid body', EX.badSource)
  @ApiErrorResponse(409, 'A terminal is offline or unknown', EX.offline)
  @ApiErrorResponse(502, 'A terminal refused to list its users', EX.readFailed)
  @ApiErrorResponse(504, 'A read took longer than OP_WAIT_TIMEOUT (it carries on)', EX.timeout)
  async plan(@Body() body: PlanSyncDto, @CurrentUser() user: AuthUser) {
    checkPlanSource(body);
    return { success: true, plan: await this.sync.plan(body, user.sub) };
  }

  @Post('apply')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Apply a plan: push only the missing and differing users. Admin token.',
    description:
      "Re-reads the target's roster; if users or credentials changed since the plan, refuses with 409 `plan_stale`. " +
      'Otherwise queues a parent operation of type `device_sync` whose steps push each missing or differing ' +
      'credential (`setuserinfo`) and, with `deleteExtra: true`, delete each extra user. Answers at once; ' +
      '`GET /api/operations/:opId` shows `response.done` of `response.total`. A restart resumes it.',
  })
  @ApiBody({ type: ApplySyncDto, examples: { apply: { value: { planId: PLAN_ID, deleteExtra: false } } } })
  @ApiOkResponse({ description: 'Queued', schema: { example: EX.apply } })
  @ApiErrorResponse(400, 'Invalid body', validationExample('planId', 'planId must be a 24-character hex ObjectId'))
  @ApiErrorResponse(404, 'No such plan', EX.notFound)
  @ApiErrorExamples(409, 'Target offline, plan stale or already applied', {
    stale: EX.stale,
    applied: EX.applied,
    offline: EX.offline,
  })
  @ApiErrorResponse(504, 'The roster read took longer than OP_WAIT_TIMEOUT', EX.timeout)
  async apply(@Body() body: ApplySyncDto, @CurrentUser() user: AuthUser) {
    return { success: true, ...(await this.sync.apply(body, user.sub)) };
  }
}
