import { Body, Controller, Post } from '@nestjs/common';
import { ApiBody, ApiCreatedResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiError } from '@app/common';
import { AdminAuth, ApiErrorResponse, validationExample } from '../auth';
import { DevicesService } from './devices.service';
import { CreateDeviceDto } from './dto/create-device.dto';

/** POST /api/devices: a terminal an admin vouches for before it connects (HTTP-only terminals, gateways). */
@ApiTags('devices')
@Controller('devices')
@AdminAuth()
export class DeviceRegistrationController {
  constructor(private readonly devices: DevicesService) {}

  @Post()
  @ApiOperation({
    summary:
      'Make a terminal known before it connects, so that it may post /api/device-log without DEVICE_LOG_TOKEN. Admin token.',
  })
  @ApiBody({
    type: CreateDeviceDto,
    examples: {
      minimal: { value: { sn: 'ZXRE06022863' } },
      full: { value: { sn: 'ZXRE06022863', name: 'Main entrance', timeZone: 'Asia/Baghdad' } },
    },
  })
  @ApiCreatedResponse({
    description: 'Created (offline until it connects)',
    schema: {
      example: {
        success: true,
        item: { sn: 'ZXRE06022863', name: 'Main entrance', timeZone: 'Asia/Baghdad', online: false },
      },
    },
  })
  @ApiErrorResponse(400, 'Malformed sn, name or time zone', validationExample('sn', 'sn must be a string'))
  @ApiErrorResponse(409, 'A terminal with this sn exists already', {
    success: false,
    error: 'device_exists',
    message: 'A terminal with sn ZXRE06022863 exists already',
  })
  async create(@Body() body: CreateDeviceDto) {
    const item = await this.devices.create({
      sn: body.sn,
      ...(body.name !== undefined ? { name: body.name } : {}),
      ...(body.timeZone !== undefined ? { timeZone: body.timeZone } : {}),
    });
    if (!item) throw new ApiError(409, 'device_exists', `A terminal with sn ${body.sn} exists already`);
    return { success: true, item };
  }
}
