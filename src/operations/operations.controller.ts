import { Controller, Get, HttpCode, HttpStatus, Param, Post, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { ApiError, ParseObjectIdPipe } from '@app/common';
import { AdminAuth, ApiErrorResponse, ERROR_EXAMPLES, validationExample } from '../auth';
import { ListOperationsQueryDto, OperationFilterQueryDto } from './dto/operation-query.dto';
import { NOT_FOUND_EXAMPLE, OPERATION_EXAMPLE } from './operation-api-docs';
import { OperationQueriesService } from './operation-queries.service';
import { OperationsService } from './operations.service';

const { response: _response, sentAt: _sentAt, ...UNSENT } = OPERATION_EXAMPLE;
const CANCELED_EXAMPLE = { ...UNSENT, status: 'canceled', attemptCount: 0 };
const ID_PARAM = { name: 'id', description: 'Operation id (24 hex characters)', example: OPERATION_EXAMPLE._id };

@ApiTags('operations')
@AdminAuth()
@Controller()
export class OperationsController {
  constructor(
    private readonly operations: OperationsService,
    private readonly queries: OperationQueriesService,
  ) {}

  @Get('operations')
  @ApiOperation({
    summary: 'List operations, newest first. Admin token.',
    description:
      'Filters: sn, type, status, and from/to as UTC days on createdAt (to is inclusive of the whole day). ' +
      'limit defaults to PAGE_SIZE_DEFAULT (20); values above PAGE_SIZE_MAX (100) are treated as PAGE_SIZE_MAX.',
  })
  @ApiOkResponse({
    description: 'One page of operations and the total matching the filters',
    schema: { example: { success: true, total: 123, page: 1, items: [OPERATION_EXAMPLE] } },
  })
  @ApiErrorResponse(
    400,
    'Unknown status, a malformed or impossible date, a non-integer page or limit (unknown parameters are ignored)',
    validationExample('status', 'status must be one of pending, sent, success, failed, canceled'),
  )
  async list(@Query() query: ListOperationsQueryDto) {
    return { success: true, ...(await this.queries.list(query.query())) };
  }

  @Get('operations/:id')
  @ApiOperation({ summary: 'One operation with its payload, response and attempt history. Admin token.' })
  @ApiParam(ID_PARAM)
  @ApiOkResponse({ schema: { example: { success: true, op: OPERATION_EXAMPLE } } })
  @ApiErrorResponse(400, 'Malformed id', ERROR_EXAMPLES.invalidId)
  @ApiErrorResponse(404, 'No operation with this id', NOT_FOUND_EXAMPLE)
  async get(@Param('id', ParseObjectIdPipe) id: string) {
    const op = await this.queries.findById(id);
    if (!op) throw new ApiError(404, 'operation_not_found', 'No operation with this id');
    return { success: true, op };
  }

  @Post('operations/:id/cancel')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Cancel a pending or failed operation; it is never sent afterwards. Admin token.',
    description: 'Operations that depend on it are canceled too (lastError dependency_failed).',
  })
  @ApiParam(ID_PARAM)
  @ApiOkResponse({
    schema: { example: { success: true, op: CANCELED_EXAMPLE } },
  })
  @ApiErrorResponse(400, 'Malformed id', ERROR_EXAMPLES.invalidId)
  @ApiErrorResponse(404, 'No operation with this id', NOT_FOUND_EXAMPLE)
  @ApiErrorResponse(409, 'The operation is sent, succeeded or already canceled', {
    success: false,
    error: 'invalid_transition',
    message: 'Only pending or failed operations can be canceled; this one is success',
  })
  async cancel(@Param('id', ParseObjectIdPipe) id: string) {
    return { success: true, op: await this.operations.cancel(id) };
  }

  @Post('operations/:id/retry')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Queue a failed or canceled operation again, with a fresh budget of sends. Admin token.',
    description: 'attemptCount keeps counting every send; maxAttempts is raised by OP_MAX_ATTEMPTS.',
  })
  @ApiParam(ID_PARAM)
  @ApiOkResponse({
    schema: {
      example: {
        success: true,
        queued: true,
        op: { _id: OPERATION_EXAMPLE._id, status: 'pending', attemptCount: 2, maxAttempts: 7 },
      },
    },
  })
  @ApiErrorResponse(400, 'Malformed id', ERROR_EXAMPLES.invalidId)
  @ApiErrorResponse(404, 'No operation with this id', NOT_FOUND_EXAMPLE)
  @ApiErrorResponse(409, 'The operation is pending, sent or succeeded, or a dependency of it failed', {
    success: false,
    error: 'invalid_transition',
    message: 'Only failed or canceled operations can be retried; this one is pending',
  })
  async retry(@Param('id', ParseObjectIdPipe) id: string) {
    return { success: true, queued: true, op: await this.operations.retry(id) };
  }

  @Get('stats')
  @ApiOperation({
    summary: 'Operation counts by status and by type. Admin token.',
    description:
      'Takes the listing filters (sn, type, status, from, to); without filters it counts every operation kept.',
  })
  @ApiOkResponse({
    schema: {
      example: {
        success: true,
        total: 123,
        byStatus: [
          { _id: 'success', count: 80 },
          { _id: 'failed', count: 20 },
        ],
        byType: [{ _id: 'setuserinfo', count: 90 }],
      },
    },
  })
  @ApiErrorResponse(
    400,
    'Unknown status or a malformed date',
    validationExample('from', 'from must be a date YYYY-MM-DD'),
  )
  async stats(@Query() query: OperationFilterQueryDto) {
    return { success: true, ...(await this.queries.stats(query.filter())) };
  }
}
