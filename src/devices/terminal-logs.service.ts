import { Inject, Injectable, Logger } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { type LogRecord, parseTerminalTime, type RejectedLogRecord, toInt } from '@app/device-protocol';
import { devicesConfig } from '../config/devices.config';
import type { EmployeeRef } from '../employees';
import {
  FingerprintsService,
  decodeBase64Image,
  PunchImagesService,
  type TerminalPunchInput,
  type TerminalPunchSource,
} from '../fingerprints';
import { doorEventMeaning } from './door-events';
import { DoorEventsRepository, NewDoorEvent } from './door-events.repository';
import { NewRejectedRecord, RejectedRecordsRepository } from './rejected-records.repository';
import { storable, storableObject } from './storable';
import { countPunches } from '../metrics/hooks';

export type LogSource = TerminalPunchSource;

export interface IngestContext {
  sn: string;
  source: LogSource;
  timeZone: string;
  deviceName?: string;
  /** `logindex` of the sendlog frame, applied to records that carry none of their own. */
  logindex?: number;
  /** The employees of the frame's enroll ids, when the caller reads them anyway (the door decision). */
  employees?: Promise<readonly EmployeeRef[]>;
}

export interface IngestResult {
  /** FingerPrintLog ids of every punch of the frame (new or stored before), in order. */
  punchIds: string[];
  punches: { stored: number; duplicates: number };
  doorEvents: { stored: number; duplicates: number };
  photosDropped: number;
  /** Records of the frame that could not be stored: kept as rejected records (new or kept before). */
  rejected: number;
  /** Punches dated more than DEVICE_MAX_FUTURE_SKEW ahead of the server clock (stored, flagged). */
  clockSuspect: number;
  /** The latest instant among the frame's usable records (to measure the terminal's clock). */
  latest?: Date;
}

type PhotoResult = { ok: true; data: Buffer; mime: string } | { ok: false; reason: string };

/** A rejected record is kept without its photo (which can be megabytes). */
function withoutImage(raw: unknown): unknown {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw) || !('image' in raw)) return raw;
  const { image: _image, ...rest } = raw as Record<string, unknown>;
  return rest;
}

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
 * apart, records that cannot be stored as rejected records; resolves once everything is durable.
 */
@Injectable()
export class TerminalLogsService {
  private readonly logger = new Logger('TerminalLogs');

  constructor(
    private readonly fingerprints: FingerprintsService,
    private readonly images: PunchImagesService,
    private readonly doorEvents: DoorEventsRepository,
    private readonly rejectedRecords: RejectedRecordsRepository,
    @Inject(devicesConfig.KEY) private readonly cfg: ConfigType<typeof devicesConfig>,
  ) {}

  /**
   * `rejectedAtParse`: records of the same frame the protocol reader could not use. Every record
   * that cannot be stored is kept as a rejected record with its reason; the others are stored.
   */
  async ingest(
    records: LogRecord[],
    ctx: IngestContext,
    rejectedAtParse: readonly RejectedLogRecord[] = [],
  ): Promise<IngestResult> {
    const rejected: NewRejectedRecord[] = rejectedAtParse.map((r) =>
      this.rejectedOf(ctx, withoutImage(r.raw), r.reason),
    );
    const punches: { index: number; rec: LogRecord; at: Date | null }[] = [];
    const doors: NewDoorEvent[] = [];
    const suspectAfter = Date.now() + this.cfg.maxFutureSkewMs;
    let latest: Date | undefined;
    records.forEach((rec, index) => {
      // Read once here (the costly part of ingest): the store, door events and the terminal's clock use it.
      const at = parseTerminalTime(rec.time, ctx.timeZone);
      if (at && (!latest || at.getTime() > latest.getTime())) latest = at;
      // Punches are validated by the fingerprints store, which names those it cannot take.
      if (rec.enrollid !== 0) {
        punches.push({ index, rec, at });
        return;
      }
      if (!at) {
        rejected.push(this.rejectedOf(ctx, rec.raw, `time ${JSON.stringify(rec.time)} is not a valid time`));
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

    // No photo is kept for a punch whose time cannot be read: the store will refuse it.
    const photos = await this.storePhotos(
      punches.filter((p) => p.at !== null),
      ctx.sn,
    );
    const input = punches.map(({ rec, at, index }) =>
      toPunchInput(rec, at, photos.ids.get(index), logindexOf(rec, ctx), at !== null && at.getTime() > suspectAfter),
    );
    const res =
      punches.length > 0
        ? await this.fingerprints.storeTerminalPunches(
            {
              sn: ctx.sn,
              ...(ctx.deviceName ? { deviceName: ctx.deviceName } : {}),
              timeZone: ctx.timeZone,
              source: ctx.source,
              records: input,
              ...(ctx.employees ? { employees: ctx.employees } : {}),
            },
            { skipInvalid: true },
          )
        : { stored: 0, duplicates: 0, ids: [], invalid: [] };
    // A record the store cannot take is kept as rejected and the rest stored: one never blocks the others.
    const invalid = new Set(res.invalid.map((i) => i.index));
    for (const { index, reason } of res.invalid) rejected.push(this.rejectedOf(ctx, punches[index].rec.raw, reason));
    const clockSuspect = input.filter((p, i) => p.clockSuspect && !invalid.has(i)).length;
    const doorCounts =
      doors.length > 0 ? await this.doorEvents.insertDeduplicated(doors) : { stored: 0, duplicates: 0 };
    if (rejected.length > 0) {
      await this.rejectedRecords.insertDeduplicated(rejected);
      countPunches(ctx.source, { rejected: rejected.length });
      this.logger.warn(
        `${ctx.sn}: ${rejected.length} record(s) of a ${ctx.source} frame rejected (listed in rejected-logs): ${rejected[0].reason}`,
      );
    }
    return {
      punchIds: res.ids,
      punches: { stored: res.stored, duplicates: res.duplicates },
      doorEvents: doorCounts,
      photosDropped: photos.dropped,
      rejected: rejected.length,
      clockSuspect,
      ...(latest ? { latest } : {}),
    };
  }

  private rejectedOf(ctx: IngestContext, raw: unknown, reason: string): NewRejectedRecord {
    return { sn: ctx.sn, raw: storable(raw) ?? null, reason, source: ctx.source };
  }

  /** Photos are kept apart from the log; an unusable or oversized one is dropped, never the punch. */
  private async storePhotos(
    punches: { index: number; rec: LogRecord }[],
    sn: string,
  ): Promise<{ ids: Map<number, string>; dropped: number }> {
    const ids = new Map<number, string>();
    let dropped = 0;
    for (const { index, rec } of punches) {
      if (!rec.image) continue;
      const photo = decodeTerminalPhoto(rec.image, this.cfg.logImageMaxBytes);
      if (!photo.ok) {
        dropped++;
        this.logger.warn(`${sn}: photo of record[${index}] (enrollid ${rec.enrollid}) dropped: ${photo.reason}`);
        continue;
      }
      ids.set(index, await this.images.store(photo.data, photo.mime));
    }
    return { ids, dropped };
  }
}

function logindexOf(rec: LogRecord, ctx: IngestContext): number | undefined {
  return toInt(rec.raw.logindex) ?? ctx.logindex;
}

function toPunchInput(
  rec: LogRecord,
  instant: Date | null,
  imageId: string | undefined,
  logindex: number | undefined,
  clockSuspect: boolean,
): TerminalPunchInput {
  const input: TerminalPunchInput = { enrollid: rec.enrollid, time: rec.time, raw: rec.raw };
  if (instant) input.instant = instant;
  if (clockSuspect) input.clockSuspect = true;
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
