import { Inject, Injectable, Logger } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { type LogRecord, parseTerminalTime, toInt } from '@app/device-protocol';
import { devicesConfig } from '../config/devices.config';
import {
  FingerprintsService,
  InvalidPunchError,
  decodeBase64Image,
  PunchImagesService,
  type TerminalPunchInput,
  type TerminalPunchSource,
} from '../fingerprints';
import { doorEventMeaning } from './door-events';
import { DoorEventsRepository, NewDoorEvent } from './door-events.repository';
import { storableObject } from './storable';

export type LogSource = TerminalPunchSource;

export interface IngestContext {
  sn: string;
  source: LogSource;
  timeZone: string;
  deviceName?: string;
  /** `logindex` of the sendlog frame, applied to records that carry none of their own. */
  logindex?: number;
}

export interface IngestResult {
  /** FingerPrintLog ids of every punch of the frame (new or stored before), in order. */
  punchIds: string[];
  punches: { stored: number; duplicates: number };
  doorEvents: { stored: number; duplicates: number };
  photosDropped: number;
}

/** A record that cannot be stored: the whole frame is refused and nothing of it is written. */
export class InvalidLogRecordError extends Error {
  constructor(
    readonly index: number,
    readonly reason: string,
  ) {
    super(`record[${index}]: ${reason}`);
    this.name = 'InvalidLogRecordError';
  }
}

type PhotoResult = { ok: true; data: Buffer; mime: string } | { ok: false; reason: string };

/** A terminal's `image`: base64 JPEG (sometimes as a data URL). Size is checked before decoding. */
export function decodeTerminalPhoto(image: string, maxBytes: number): PhotoResult {
  const b64 = image.startsWith('data:') ? image.slice(image.indexOf(',') + 1) : image;
  const decoded = decodeBase64Image(b64, maxBytes, { lenient: true });
  if (decoded.ok) return decoded;
  if (decoded.tooLarge) {
    return { ok: false, reason: `photo of ${decoded.size} bytes exceeds DEVICE_LOG_IMAGE_MAX (${maxBytes})` };
  }
  return { ok: false, reason: `photo ${decoded.reason}` };
}

/**
 * Stores the log records of one frame (sendlog, getnewlog/getalllog packet, POST /api/device-log):
 * punches through the fingerprints module, door events (enrollid 0) in their own collection, photos
 * apart. The whole frame is validated before anything is written; resolves once everything is durable.
 */
@Injectable()
export class TerminalLogsService {
  private readonly logger = new Logger('TerminalLogs');

  constructor(
    private readonly fingerprints: FingerprintsService,
    private readonly images: PunchImagesService,
    private readonly doorEvents: DoorEventsRepository,
    @Inject(devicesConfig.KEY) private readonly cfg: ConfigType<typeof devicesConfig>,
  ) {}

  async ingest(records: LogRecord[], ctx: IngestContext): Promise<IngestResult> {
    const punches: { index: number; rec: LogRecord; at: Date }[] = [];
    const doors: NewDoorEvent[] = [];
    records.forEach((rec, index) => {
      const at = parseTerminalTime(rec.time, ctx.timeZone);
      if (!at) throw new InvalidLogRecordError(index, `time ${JSON.stringify(rec.time)} is not a valid time`);
      if (!Number.isSafeInteger(rec.enrollid) || rec.enrollid < 0) {
        throw new InvalidLogRecordError(index, `enrollid ${JSON.stringify(rec.enrollid)} is not valid`);
      }
      if (rec.enrollid !== 0) {
        punches.push({ index, rec, at });
        return;
      }
      const event = rec.event ?? 0;
      doors.push({
        sn: ctx.sn,
        time: rec.time,
        at,
        timeZone: ctx.timeZone,
        event,
        eventName: doorEventMeaning(event).name,
        inout: rec.inout ?? null,
        ...(rec.mode !== undefined ? { mode: rec.mode } : {}),
        ...(rec.verifymode !== undefined ? { verifymode: rec.verifymode } : {}),
        ...(logindexOf(rec, ctx) !== undefined ? { logindex: logindexOf(rec, ctx) } : {}),
        source: ctx.source,
        raw: storableObject(rec.raw),
      });
    });

    const photos = await this.storePhotos(punches, ctx.sn);
    let punchIds: string[] = [];
    let punchCounts = { stored: 0, duplicates: 0 };
    if (punches.length > 0) {
      try {
        const res = await this.fingerprints.storeTerminalPunches({
          sn: ctx.sn,
          ...(ctx.deviceName ? { deviceName: ctx.deviceName } : {}),
          timeZone: ctx.timeZone,
          source: ctx.source,
          records: punches.map(({ rec, at }, i) => toPunchInput(rec, at, photos.ids[i], logindexOf(rec, ctx))),
        });
        punchIds = res.ids;
        punchCounts = { stored: res.stored, duplicates: res.duplicates };
      } catch (err) {
        if (err instanceof InvalidPunchError) {
          throw new InvalidLogRecordError(punches[err.index]?.index ?? err.index, err.reason);
        }
        throw err;
      }
    }
    const doorCounts =
      doors.length > 0 ? await this.doorEvents.insertDeduplicated(doors) : { stored: 0, duplicates: 0 };
    return { punchIds, punches: punchCounts, doorEvents: doorCounts, photosDropped: photos.dropped };
  }

  /** Photos are kept apart from the log; an unusable or oversized one is dropped, never the punch. */
  private async storePhotos(
    punches: { index: number; rec: LogRecord }[],
    sn: string,
  ): Promise<{ ids: (string | undefined)[]; dropped: number }> {
    const ids: (string | undefined)[] = [];
    let dropped = 0;
    for (const { index, rec } of punches) {
      if (!rec.image) {
        ids.push(undefined);
        continue;
      }
      const photo = decodeTerminalPhoto(rec.image, this.cfg.logImageMaxBytes);
      if (!photo.ok) {
        dropped++;
        this.logger.warn(`${sn}: photo of record[${index}] (enrollid ${rec.enrollid}) dropped: ${photo.reason}`);
        ids.push(undefined);
        continue;
      }
      ids.push(await this.images.store(photo.data, photo.mime));
    }
    return { ids, dropped };
  }
}

function logindexOf(rec: LogRecord, ctx: IngestContext): number | undefined {
  return toInt(rec.raw.logindex) ?? ctx.logindex;
}

function toPunchInput(
  rec: LogRecord,
  instant: Date,
  imageId: string | undefined,
  logindex: number | undefined,
): TerminalPunchInput {
  const input: TerminalPunchInput = { enrollid: rec.enrollid, time: rec.time, instant, raw: rec.raw };
  if (rec.mode !== undefined) input.mode = rec.mode;
  if (rec.inout !== undefined) input.inout = rec.inout;
  if (rec.event !== undefined) input.event = rec.event;
  if (rec.verifymode !== undefined) input.verifymode = rec.verifymode;
  if (rec.temp !== undefined) input.temp = rec.temp;
  if (logindex !== undefined) input.logindex = logindex;
  if (rec.name !== undefined) input.name = rec.name;
  if (imageId !== undefined) input.imageId = imageId;
  return input;
}
