import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiBody, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { ParseObjectIdPipe } from '@app/common';
import { AdminAuth, ApiErrorResponse, AuthUser, CurrentUser } from '../auth';
import { GROUP_EXAMPLES as EX } from './device-groups.examples';
import { DeviceGroupsService } from './device-groups.service';
import { CreateDeviceGroupDto, DriftQueryDto, UpdateDeviceGroupDto } from './dto/device-group.dto';
import { GroupDriftService } from './group-drift.service';

const ID_PARAM = { name: 'id', description: 'Group id', example: '675a1b2c3d4e5f6a7b8c9d01' };

@ApiTags('device groups')
@AdminAuth()
@Controller('device-groups')
export class DeviceGroupsController {
  constructor(
    private readonly groups: DeviceGroupsService,
    private readonly drift: GroupDriftService,
  ) {}

  @Post()
  @ApiOperation({
    summary: 'Create a terminal group. Admin token.',
    description:
      'Every serial must belong to a registered terminal, and a terminal belongs to at most one group. With ' +
      '`syncUsers: true`, a user enrolled on one member (keypad enrolment pushed with `senduser`, `add-user`, a ' +
      "transfer's push) is pushed to every other member, and a user deleted through the API from one member is " +
      'deleted from all (each change: one parent operation of type `group_propagation`).',
  })
  @ApiBody({
    type: CreateDeviceGroupDto,
    examples: { site: { value: { name: 'Main site', sns: ['ZXRE06022863', 'TYSG18086518'], syncUsers: true } } },
  })
  @ApiCreatedResponse({ description: 'Created', schema: { example: EX.item } })
  @ApiErrorResponse(400, 'Invalid body, or serials no terminal registered with', EX.unknownDevices)
  @ApiErrorResponse(409, 'A terminal already belongs to another group', EX.inOtherGroup)
  async create(@Body() body: CreateDeviceGroupDto) {
    return { success: true, item: await this.groups.create(body) };
  }

  @Get()
  @ApiOperation({
    summary: 'List terminal groups with the counts of their last drift check. Admin token.',
    description: '`drift` holds the counts of the last check (scheduled every GROUP_DRIFT_INTERVAL, or asked for).',
  })
  @ApiOkResponse({ description: 'Every group', schema: { example: EX.list } })
  @ApiErrorResponse(401, 'No token', { success: false, error: 'unauthorized', message: 'Missing bearer token' })
  async list() {
    return { success: true, items: await this.groups.list() };
  }

  @Get(':id')
  @ApiOperation({ summary: 'One terminal group with the status of each member. Admin token.' })
  @ApiParam(ID_PARAM)
  @ApiOkResponse({ description: 'The group and its members', schema: { example: EX.detail } })
  @ApiErrorResponse(400, 'Malformed id', EX.invalidId)
  @ApiErrorResponse(404, 'No such group', EX.notFound)
  async get(@Param('id', ParseObjectIdPipe) id: string) {
    return { success: true, item: await this.groups.detail(id) };
  }

  @Patch(':id')
  @ApiOperation({
    summary: 'Rename a group, change its members or turn user propagation on or off. Admin token.',
    description: 'The same membership rules as creation. Users already on the terminals are not copied.',
  })
  @ApiParam(ID_PARAM)
  @ApiBody({ type: UpdateDeviceGroupDto, examples: { off: { value: { syncUsers: false } } } })
  @ApiOkResponse({ description: 'Updated', schema: { example: EX.item } })
  @ApiErrorResponse(400, 'Invalid body or id, or serials no terminal registered with', EX.badBody)
  @ApiErrorResponse(404, 'No such group', EX.notFound)
  @ApiErrorResponse(409, 'A terminal already belongs to another group', EX.inOtherGroup)
  async update(@Param('id', ParseObjectIdPipe) id: string, @Body() body: UpdateDeviceGroupDto) {
    return { success: true, item: await this.groups.update(id, body) };
  }

  @Delete(':id')
  @ApiOperation({ summary: 'Delete a group (the terminals and their users stay). Admin token.' })
  @ApiParam(ID_PARAM)
  @ApiOkResponse({ description: 'Deleted', schema: { example: EX.deleted } })
  @ApiErrorResponse(400, 'Malformed id', EX.invalidId)
  @ApiErrorResponse(404, 'No such group', EX.notFound)
  async remove(@Param('id', ParseObjectIdPipe) id: string) {
    await this.groups.remove(id);
    return { success: true };
  }

  @Get(':id/drift')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Which users each member lacks, holds in excess or holds with other credentials. Admin token.',
    description:
      "From the server's copy of each member's users. A user held by at least half the members belongs on all " +
      '(`missing` where absent); one held by fewer is `extra` where held; `differing` lists the slots whose ' +
      'credential hash differs from the one most members hold (ties: the newest). With `refresh=true` every online ' +
      "member's roster and credentials are re-read first (one queued `getuserlist` each) and the answer waits for " +
      'them (504 with the operation id after OP_WAIT_TIMEOUT).',
  })
  @ApiParam(ID_PARAM)
  @ApiOkResponse({ description: 'Drift per member', schema: { example: EX.drift } })
  @ApiErrorResponse(400, 'Malformed id or refresh value', EX.badRefresh)
  @ApiErrorResponse(404, 'No such group', EX.notFound)
  @ApiErrorResponse(504, 'A roster read took longer than OP_WAIT_TIMEOUT (it carries on)', EX.timeout)
  async driftOf(
    @Param('id', ParseObjectIdPipe) id: string,
    @Query() query: DriftQueryDto,
    @CurrentUser() user: AuthUser,
  ) {
    return { success: true, ...(await this.drift.drift(id, query.refresh === true, user.sub)) };
  }
}
