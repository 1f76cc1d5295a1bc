import { Body, Controller, Get, HttpCode, HttpStatus, Param, Post, Query } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { AdminAuth, ApiErrorResponse, AuthUser, CurrentUser } from '../auth';
import { ApiErrorExamples } from './api-examples.decorator';
import { EXAMPLES } from './user-management.examples';
import { AddUserDto } from './dto/add-user.dto';
import { DeleteUsersDto } from './dto/delete-users.dto';
import { ListUsersQueryDto } from './dto/list-users-query.dto';
import { UserManagementService } from './user-management.service';

const SN_PARAM = { name: 'sn', description: 'Serial number of the terminal', example: 'ZXRE06022863' };

@ApiTags('device users')
@AdminAuth()
@Controller('device/:sn')
export class UserManagementController {
  constructor(private readonly users: UserManagementService) {}

  @Get('users')
  @ApiOperation({
    summary: 'Read every user and credential on a terminal. Admin token.',
    description:
      'One `getuserlist` operation: all pages of the user list, then (unless `templates=false`) one `getuserinfo` per ' +
      'credential, one at a time. Refreshes the server copy of the users; `aliasid` comes from that copy. The terminal ' +
      'must be online. Slow terminals: after OP_WAIT_TIMEOUT the answer is 504 with the operation id while it carries on.',
  })
  @ApiParam(SN_PARAM)
  @ApiOkResponse({ description: 'One record per credential', schema: { example: EXAMPLES.listUsers } })
  @ApiErrorResponse(400, 'templates is not true or false', {
    success: false,
    error: 'validation_failed',
    message: 'templates: templates must be true or false',
    errors: [{ field: 'templates', messages: ['templates must be true or false'] }],
  })
  @ApiErrorResponse(409, 'Terminal offline or unknown', EXAMPLES.offline)
  @ApiErrorResponse(502, 'The terminal refused the read', {
    ...EXAMPLES.commandFailed,
    response: { ret: 'getuserlist', result: false, reason: 1 },
  })
  @ApiErrorResponse(504, 'No complete answer within OP_WAIT_TIMEOUT (the operation carries on)', EXAMPLES.timeout)
  async list(@Param('sn') sn: string, @Query() query: ListUsersQueryDto, @CurrentUser() user: AuthUser) {
    return { success: true, ...(await this.users.listUsers(sn, query.templates !== false, user.sub)) };
  }

  @Post('add-user')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Enrol a new user on the terminal (remote enrolment). Admin token.',
    description:
      'Recorded as an operation of type `adduserinfo`, sent as the wire command `adduser` with `flag: 10`; the person ' +
      'then enrols the finger (backupnum 0-9) or face (50) at the terminal. `aliasid` is kept on the server only. ' +
      'The terminal must be online.',
  })
  @ApiParam(SN_PARAM)
  @ApiBody({
    type: AddUserDto,
    examples: { face: { value: { enrollid: 10012, name: 'John Smith1', aliasid: 'JSMITH1', backupnum: 50 } } },
  })
  @ApiOkResponse({ description: 'The terminal accepted the enrolment', schema: { example: EXAMPLES.addUser } })
  @ApiErrorResponse(400, 'Bad enrollid (1..99,999,999), name or backupnum (0-9 or 50)', EXAMPLES.badAddUser)
  @ApiErrorExamples(409, 'Terminal offline or unknown, or the enroll id already exists on it', {
    offline: EXAMPLES.offline,
    exists: EXAMPLES.userExists,
  })
  @ApiErrorResponse(502, 'The terminal refused the enrolment for another reason', {
    ...EXAMPLES.commandFailed,
    response: { ret: 'adduser', result: false, reason: 1 },
  })
  @ApiErrorResponse(504, 'No answer within OP_WAIT_TIMEOUT (the operation carries on)', EXAMPLES.timeout)
  addUser(@Param('sn') sn: string, @Body() body: AddUserDto, @CurrentUser() user: AuthUser) {
    return this.users.addUser(sn, body, user.sub);
  }

  @Post('delete-users')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Delete users (all their credentials) from a terminal. Admin token.',
    description:
      'One `deleteuser` operation (backupnum 13) per id, queued and answered at once. A known terminal that is offline ' +
      'gets them when it reconnects. The server copy of each user goes when the terminal confirms its delete.',
  })
  @ApiParam(SN_PARAM)
  @ApiBody({ type: DeleteUsersDto, examples: { three: { value: { enrollIds: [2, 3, 15] } } } })
  @ApiOkResponse({ description: 'Queued', schema: { example: EXAMPLES.deleteUsers } })
  @ApiErrorResponse(400, 'Empty, duplicate, non-integer or out-of-range ids (nothing is queued)', EXAMPLES.badEnrollIds)
  @ApiErrorResponse(409, 'Unknown terminal', EXAMPLES.offline)
  async deleteUsers(@Param('sn') sn: string, @Body() body: DeleteUsersDto, @CurrentUser() user: AuthUser) {
    return { success: true, ...(await this.users.deleteUsers(sn, body.enrollIds, user.sub)) };
  }

  @Post('clean-log')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Erase every attendance record stored on the terminal (`cleanlog`). Admin token.',
    description: 'Recorded as an operation of type `cleanlog`. The terminal must be online. No request body.',
  })
  @ApiParam(SN_PARAM)
  @ApiOkResponse({ description: 'The terminal erased its log', schema: { example: EXAMPLES.cleanLog } })
  @ApiErrorResponse(409, 'Terminal offline or unknown', EXAMPLES.offline)
  @ApiErrorResponse(502, 'The terminal refused the command', EXAMPLES.commandFailed)
  @ApiErrorResponse(504, 'No answer within OP_WAIT_TIMEOUT (the operation carries on)', EXAMPLES.timeout)
  cleanLog(@Param('sn') sn: string, @CurrentUser() user: AuthUser) {
    return this.users.cleanLog(sn, user.sub);
  }
}
