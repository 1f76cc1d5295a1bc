import { Body, Controller, HttpCode, HttpStatus, Post } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AdminAuth, ApiErrorResponse, AuthUser, CurrentUser } from '../auth';
import { ApiErrorExamples } from './api-examples.decorator';
import { EXAMPLES } from './user-management.examples';
import { checkDifferentTerminals, TransferUsersDto } from './dto/transfer-users.dto';
import { TransferService } from './transfer.service';

@ApiTags('device users')
@AdminAuth()
@Controller('transfer-users')
export class TransferController {
  constructor(private readonly transfers: TransferService) {}

  @Post()
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Copy or move users from one terminal to another. Admin token.',
    description:
      'Reads the users from the source (which must be online), then queues a parent operation of type `transfer` with ' +
      'children: a `setuserinfo` on the target per credential (name and admin level kept) and, for a move, a ' +
      "`deleteuser` on the source per user that is sent only after the target confirmed all of that user's " +
      'credentials; a failed push cancels that delete, so the user stays on the source. Answers at once; ' +
      '`GET /api/operations/:opId` of the parent shows the progress and finishes when every step finished.',
  })
  @ApiBody({
    type: TransferUsersDto,
    examples: {
      move: { value: { fromSn: 'ZXRE06022863', toSn: 'TYSG18086518', enrollIds: [2, 3], deleteFromSource: true } },
      copyAll: { value: { fromSn: 'ZXRE06022863', toSn: 'TYSG18086518', deleteFromSource: false } },
    },
  })
  @ApiOkResponse({
    description: 'Planned and queued; steps carry their operation ids',
    schema: { example: EXAMPLES.transfer },
  })
  @ApiErrorExamples(400, 'Invalid body, or the same terminal twice', {
    same: EXAMPLES.sameTerminal,
    invalid: EXAMPLES.badEnrollIds,
  })
  @ApiErrorResponse(404, 'Unknown target terminal', EXAMPLES.unknownTarget)
  @ApiErrorResponse(409, 'Source terminal offline or unknown', EXAMPLES.offline)
  @ApiErrorResponse(502, 'The source refused to list its users', {
    ...EXAMPLES.commandFailed,
    response: { ret: 'getuserlist', result: false, reason: 1 },
  })
  @ApiErrorResponse(504, 'Reading the source took longer than OP_WAIT_TIMEOUT (nothing was pushed)', EXAMPLES.timeout)
  async transfer(@Body() body: TransferUsersDto, @CurrentUser() user: AuthUser) {
    checkDifferentTerminals(body.fromSn, body.toSn);
    return { success: true, ...(await this.transfers.transfer(body, user.sub)) };
  }
}
