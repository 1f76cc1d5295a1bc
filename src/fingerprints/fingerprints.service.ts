import { Inject, Injectable } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { CallBatcher, type PageWindow, type Slice } from '@app/common';
import { Types } from 'mongoose';
import { forwardingConfig } from '../config/forwarding.config';
import { EmployeesService } from '../employees';
import type { EmployeeRef, EmployeeView } from '../employees';
import { CreateAppPunchDto } from './dto/create-app-punch.dto';
import type { PunchFilter } from './dto/list-punches-query.dto';
import {
  FingerPrintLogRecord,
  FingerPrintLogRepository,
  FrameInsertResult,
  NewFingerPrintLog,
} from './fingerprint-log.repository';
import { FingerPrintLogResponse, toFingerPrintLogResponse } from './fingerprint-log.response';
import { ForwardOutboxService, RetryReport } from './forward-outbox.service';
import { PunchImagesService } from './punch-images.service';
import {
  appDedupeKey,
  InvalidPunch,
  InvalidPunchError,
  optionalInt,
  optionalNumber,
  readPunchTime,
  terminalDedupeKey,
} from './punch-record';
import { countPunches } from '../metrics/hooks';
import { PunchDeviceType, PunchSource, TerminalPunchSource } from './schemas/fingerprint-log.schema';
import { FifoGate } from './fifo-gate';

export interface TerminalPunchInput {
  enrollid: number;
  /** Raw `YYYY-MM-DD HH:MM:SS` as sent (lenient forms accepted). */
  time: string;
  /** The instant `time` means in the input's `timeZone`, when the caller has already read it. */
  instant?: Date;
  mode?: number;
  inout?: number;
  event?: number;
  verifymode?: number;
  temp?: number;
  logindex?: number;
  /** The name the terminal sent with the punch (kept as `device_user_name`). */
  name?: string;
  imageId?: string;
  /** Dated too far ahead of the server clock (DEVICE_MAX_FUTURE_SKEW): stored and forwarded, flagged. */
  clockSuspect?: boolean;
  raw: Record<string, unknown>;
}

export interface StoreTerminalPunchesInput {
  sn: string;
  deviceName?: string;
  timeZone: string;
  source: TerminalPunchSource;
  records: TerminalPunchInput[];
  /**
   * The employees whose enroll_id is among the records', when the caller already reads them (the
   * door decision of a sendlog does): the store uses them instead of reading them again.
   */
  employees?: Promise<readonly EmployeeRef[]>;
}

export interface StoreTerminalPunchesResult {
  stored: number;
  duplicates: number;
  /** Id of every valid record, in input order, whether new or stored before. */
  ids: string[];
  /** With `skipInvalid`: the records not stored (position in `records`), with why. */
  invalid: InvalidPunch[];
}

export type NamedFingerPrintLog = FingerPrintLogResponse & { name: string | null };

@Injectable()
export class FingerprintsService {
  private readonly storeGate: FifoGate;
  /**
   * The punches of the frames being stored at the same time, written in one insert: a command per
   * frame was most of a frame's cost with many terminals sending at once (one round trip and one
   * journal write for the lot). A frame whose punches could not be written fails alone.
   */
  private readonly inserts = new CallBatcher<NewFingerPrintLog[], FrameInsertResult>((frames) =>
    this.logs.insertFramesDeduplicated(frames),
  );

  constructor(
    private readonly logs: FingerPrintLogRepository,
    private readonly images: PunchImagesService,
    private readonly outbox: ForwardOutboxService,
    private readonly employees: EmployeesService,
    @Inject(forwardingConfig.KEY) private readonly cfg: ConfigType<typeof forwardingConfig>,
  ) {
    this.storeGate = new FifoGate(cfg.storeConcurrency);
  }

  /** Terminal frames waiting for their turn to be stored (PUNCH_STORE_CONCURRENCY), for metrics. */
  get framesWaitingToStore(): number {
    return this.storeGate.queued;
  }

  /**
   * Stores a terminal frame's punches durably (resolves only once written) and deduplicated, then
   * wakes the outbox. This is where terminal punches are validated: one invalid record refuses the
   * whole frame, storing nothing (InvalidPunchError), or with `skipInvalid` the others are stored
   * and the invalid ones returned with why. Throws on a database failure.
   */
  async storeTerminalPunches(
    input: StoreTerminalPunchesInput,
    opts: { skipInvalid?: boolean } = {},
  ): Promise<StoreTerminalPunchesResult> {
    // Validated before waiting for a turn: a bad frame is refused at once.
    const docs: NewFingerPrintLog[] = [];
    const invalid: InvalidPunch[] = [];
    input.records.forEach((rec, index) => {
      const doc = this.toTerminalDocument(input, rec);
      if (typeof doc !== 'string') docs.push(doc);
      else if (opts.skipInvalid) invalid.push({ index, reason: doc });
      else throw new InvalidPunchError(index, doc);
    });
    if (docs.length === 0) return { stored: 0, duplicates: 0, ids: [], invalid };
    return { ...(await this.storeGate.run(() => this.storeDocuments(input, docs))), invalid };
  }

  private async storeDocuments(
    input: StoreTerminalPunchesInput,
    docs: NewFingerPrintLog[],
  ): Promise<Omit<StoreTerminalPunchesResult, 'invalid'>> {
    await this.assignEmployees(docs, input.employees);
    const { duplicateIndexes } = await this.inserts.add(docs);
    const ids = docs.map((d) => d._id.toHexString());
    if (duplicateIndexes.size > 0) {
      const keys = [...duplicateIndexes].map((i) => docs[i].dedupe_key);
      const existing = await this.logs.idsByDedupeKeys(keys);
      for (const i of duplicateIndexes) {
        const id = existing.get(docs[i].dedupe_key);
        if (!id) throw new Error(`punch ${docs[i].dedupe_key} reported as duplicate but not found`);
        ids[i] = id;
      }
    }
    const stored = docs.length - duplicateIndexes.size;
    countPunches(input.source, { stored, duplicates: duplicateIndexes.size });
    // device-log makes its own inline attempt (forwardNow); waking here would race it for the claim.
    if (stored > 0 && input.source !== 'device-log') this.outbox.wake();
    return { stored, duplicates: duplicateIndexes.size, ids };
  }

  /** device-log: one attempt now for these punches; the outbox takes over when it fails. */
  async forwardNow(ids: string[]): Promise<{ forwarded: boolean }> {
    const result = await this.outbox.forwardNow(ids);
    if (!result.forwarded) this.outbox.wake();
    return result;
  }

  /**
   * The app's punch: the server's clock is its time, the employee gives enrollid and owner. It is
   * stored already claimed by this request, so the outbox cannot send it at the same time, then
   * forwarded once. Stored whatever the forward's outcome.
   */
  async recordAppPunch(
    employee: EmployeeView,
    dto: CreateAppPunchDto,
  ): Promise<{ punch: FingerPrintLogResponse; forwarded: boolean }> {
    const imageId = dto.image !== undefined ? await this.images.storeDataUrl(dto.image) : null;
    const _id = new Types.ObjectId();
    const { punch, forwarded } = await this.outbox.storeAndForward({
      _id,
      enrollid: employee.enroll_id,
      event: dto.event,
      time: new Date(),
      device_sn: dto.device_sn || 'App',
      device_name: dto.device_name ?? null,
      device_type: PunchDeviceType.MobileApp,
      employee: new Types.ObjectId(employee._id),
      owner: employee.owner,
      location: { latitude: dto.location.latitude, longitude: dto.location.longitude },
      macs: dto.macs ?? null,
      imageId: imageId ? new Types.ObjectId(imageId) : null,
      raw_time: null,
      local_time: null,
      time_zone: null,
      mode: null,
      inout: null,
      verifymode: null,
      temp: null,
      logindex: null,
      source: 'app',
      raw: null,
      dedupe_key: appDedupeKey(_id.toHexString()),
    });
    countPunches('app', { stored: 1 });
    return { punch: toFingerPrintLogResponse(punch), forwarded };
  }

  /** The employee's own punches: from the app, and from terminals under the employee's enroll id. */
  async listForEmployee(
    employee: EmployeeView,
    filter: PunchFilter,
    window: PageWindow,
  ): Promise<Slice<FingerPrintLogResponse>> {
    const ownedBy = { employeeId: employee._id, enrollId: employee.enroll_id };
    const { rows, total } = await this.logs.list({ ...filter, ownedBy }, window.page, window.limit);
    return { total, items: rows.map(toFingerPrintLogResponse) };
  }

  async listMobileLogs(filter: PunchFilter, window: PageWindow): Promise<Slice<NamedFingerPrintLog>> {
    return this.adminPage(PunchDeviceType.MobileApp, filter, window);
  }

  async listDeviceLogs(filter: PunchFilter, window: PageWindow): Promise<Slice<NamedFingerPrintLog>> {
    return this.adminPage(PunchDeviceType.Terminal, filter, window);
  }

  /** POST /api/fingerprints/retry-failed: app punches failed or never sent. */
  async retryFailedMobile(): Promise<RetryReport> {
    return this.outbox.retryFailed(PunchDeviceType.MobileApp);
  }

  /** POST /api/fingerprints/device-logs/retry-failed: the same for terminal and device-log punches. */
  async retryFailedDevice(): Promise<RetryReport> {
    return this.outbox.retryFailed(PunchDeviceType.Terminal);
  }

  /** Admin listings name each punch: its employee, else the employee with its enroll id, else the terminal's name. */
  private async adminPage(
    deviceType: PunchDeviceType,
    filter: PunchFilter,
    window: PageWindow,
  ): Promise<Slice<NamedFingerPrintLog>> {
    const { rows, total } = await this.logs.list({ ...filter, deviceType }, window.page, window.limit);
    const names = await this.namesFor(rows);
    return {
      total,
      items: rows.map((row) => ({
        ...toFingerPrintLogResponse(row),
        name:
          (row.employee ? names.byId.get(row.employee.toHexString()) : undefined) ??
          names.byEnrollId.get(row.enrollid) ??
          row.device_user_name ??
          null,
      })),
    };
  }

  private async namesFor(
    rows: FingerPrintLogRecord[],
  ): Promise<{ byId: Map<string, string>; byEnrollId: Map<string, string> }> {
    const enrollIds = [...new Set(rows.map((r) => r.enrollid))];
    const found = enrollIds.length > 0 ? await this.employees.findByEnrollIds(enrollIds) : [];
    const byEnrollId = new Map<string, string>();
    for (const e of found) if (!byEnrollId.has(e.enroll_id)) byEnrollId.set(e.enroll_id, e.fullName);
    return { byId: new Map(found.map((e) => [e._id, e.fullName])), byEnrollId };
  }

  /** A terminal punch belongs to the employee whose enroll_id is its enrollid (when exactly one). */
  private async assignEmployees(docs: NewFingerPrintLog[], known?: Promise<readonly EmployeeRef[]>): Promise<void> {
    const enrollIds = [...new Set(docs.map((d) => d.enrollid))];
    if (enrollIds.length === 0) return;
    const found = known ? await known : await this.employees.findRefsByEnrollIds(enrollIds);
    const byEnrollId = new Map<string, EmployeeRef | null>();
    for (const e of found) byEnrollId.set(e.enroll_id, byEnrollId.has(e.enroll_id) ? null : e);
    for (const doc of docs) {
      const employee = byEnrollId.get(doc.enrollid);
      if (employee) {
        doc.employee = new Types.ObjectId(employee._id);
        doc.owner = employee.owner;
      }
    }
  }

  /** The punch to store, or why the record cannot be one. */
  private toTerminalDocument(input: StoreTerminalPunchesInput, rec: TerminalPunchInput): NewFingerPrintLog | string {
    if (!Number.isSafeInteger(rec.enrollid) || rec.enrollid <= 0) {
      return `invalid enrollid ${JSON.stringify(rec.enrollid)}`;
    }
    const time = readPunchTime(rec.time, input.timeZone, rec.instant);
    if (!time) return `invalid time ${JSON.stringify(rec.time)}`;
    if (rec.imageId !== undefined && !Types.ObjectId.isValid(rec.imageId)) {
      return `invalid imageId ${JSON.stringify(rec.imageId)}`;
    }
    const enrollid = String(rec.enrollid);
    const mode = optionalInt(rec.mode);
    const inout = optionalInt(rec.inout);
    const event = optionalInt(rec.event) ?? 0;
    return {
      _id: new Types.ObjectId(),
      enrollid,
      event,
      time: time.instant,
      device_sn: input.sn,
      device_name: input.deviceName ?? null,
      device_type: PunchDeviceType.Terminal,
      employee: null,
      owner: null,
      location: null,
      macs: null,
      imageId: rec.imageId ? new Types.ObjectId(rec.imageId) : null,
      raw_time: rec.time,
      local_time: time.localTime,
      time_zone: input.timeZone,
      mode,
      inout,
      verifymode: optionalInt(rec.verifymode),
      temp: optionalNumber(rec.temp),
      logindex: optionalInt(rec.logindex),
      device_user_name: deviceUserName(rec.name),
      clock_suspect: rec.clockSuspect === true,
      source: input.source satisfies PunchSource,
      raw: sanitizeRaw(rec.raw),
      dedupe_key: terminalDedupeKey({ sn: input.sn, enrollid, instant: time.instant, mode, inout, event }),
    };
  }
}

/** The terminal's name for the user, as sent (trimmed, bounded); none when empty. */
function deviceUserName(name: unknown): string | null {
  if (typeof name !== 'string') return null;
  const trimmed = name.trim().slice(0, 100);
  return trimmed.length > 0 ? trimmed : null;
}

/**
 * The raw record is kept for audits, but never the photo (stored apart, it can be megabytes), and
 * with keys MongoDB refuses (`$...`, dotted) renamed so an odd record cannot block its frame.
 */
function sanitizeRaw(raw: unknown, depth = 0): Record<string, unknown> {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return {};
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (depth === 0 && key === 'image') continue;
    const safeKey = key.replace(/^\$/, '_').replace(/\./g, '_');
    out[safeKey] =
      value && typeof value === 'object' && !Array.isArray(value) && depth < 4 ? sanitizeRaw(value, depth + 1) : value;
  }
  return out;
}
