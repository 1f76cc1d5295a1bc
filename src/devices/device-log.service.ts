import { Injectable, Logger } from '@nestjs/common';
import { splitLogRecords } from '@app/device-protocol';
import { ApiError } from '@app/common';
import { FingerprintsService } from '../fingerprints';
import { DevicesService } from './devices.service';
import type { DeviceLogDto } from './dto/device-log.dto';
import { TerminalLogsService } from './terminal-logs.service';

export interface DeviceLogResult {
  forwarded: boolean;
  retryLater: boolean;
  /** Records of the body that could not be stored (kept as rejected records); absent when none. */
  rejected?: number;
}

function invalidRecord(field: string, message: string): ApiError {
  return new ApiError(400, 'validation_failed', `${field}: ${message}`, { errors: [{ field, messages: [message] }] });
}

const RECORD_FIELDS = ['enrollid', 'time', 'event', 'mode', 'inout', 'verifymode', 'temp', 'logindex', 'name', 'image'];

/** The record fields of a posted record (unknown keys are dropped, as the body's other unknown keys). */
function knownFields(record: unknown): unknown {
  if (record === null || typeof record !== 'object' || Array.isArray(record)) return record;
  const source = record as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const key of RECORD_FIELDS) if (source[key] !== undefined) out[key] = source[key];
  return out;
}

/** POST /api/device-log: punches from terminals or gateways over HTTP, stored like sendlog, forwarded once inline. */
@Injectable()
export class DeviceLogService {
  private readonly logger = new Logger('DeviceLog');

  constructor(
    private readonly devices: DevicesService,
    private readonly logs: TerminalLogsService,
    private readonly fingerprints: FingerprintsService,
  ) {}

  async ingest(body: DeviceLogDto): Promise<DeviceLogResult> {
    const doc = await this.devices.findRecord(body.sn);
    if (!this.devices.isAdmitted(body.sn, doc)) {
      throw new ApiError(403, 'device_not_allowed', `Terminal ${body.sn} is not allowed to send logs (allow-list)`, {
        sn: body.sn,
      });
    }
    // The same lenient reading as the gateway's sendlog, so both paths store identical records;
    // records that cannot be stored are kept as rejected records and counted in the answer.
    const parsed = splitLogRecords({ record: body.record.map(knownFields) });
    if (!parsed.ok) throw invalidRecord('record', parsed.reason);
    // A rejected record is kept as it was posted, unknown keys included.
    for (const r of parsed.value.rejected) r.raw = body.record[r.index];
    const ctx = this.devices.contextOf(body.sn, doc);
    const result = await this.logs.ingest(
      parsed.value.records,
      { sn: body.sn, source: 'device-log', timeZone: ctx.timeZone, ...(ctx.name ? { deviceName: ctx.name } : {}) },
      parsed.value.rejected,
    );
    const rejected = result.rejected > 0 ? { rejected: result.rejected } : {};
    await this.devices.recordDeviceLog(body.sn).catch((err: unknown) => {
      this.logger.warn(`${body.sn}: could not note the device-log time: ${String(err)}`);
    });
    if (result.punchIds.length === 0) return { forwarded: false, retryLater: false, ...rejected };
    let forwarded = false;
    try {
      forwarded = (await this.fingerprints.forwardNow(result.punchIds)).forwarded;
    } catch (err) {
      // Stored already: the outbox delivers it later.
      this.logger.warn(`${body.sn}: inline forward failed, the outbox takes over: ${String(err)}`);
    }
    return { forwarded, retryLater: !forwarded, ...rejected };
  }
}
