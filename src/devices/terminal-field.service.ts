import { Inject, Injectable, Logger } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { parseTerminalTime } from '@app/device-protocol';
import { devicesConfig } from '../config/devices.config';
import { DevicesRepository } from './devices.repository';
import { RejectedRecordRow, RejectedRecordsRepository } from './rejected-records.repository';
import { CallBatcher } from '@app/common';
import { CatchUpState, TerminalClockState } from './schemas/device.schema';

export interface RejectedLogView {
  _id: string;
  sn: string;
  raw: unknown;
  reason: string;
  source: string;
  receivedAt: Date;
}

function toRejectedLogView(row: RejectedRecordRow): RejectedLogView {
  return {
    _id: String(row._id),
    sn: row.sn,
    raw: row.raw ?? null,
    reason: row.reason,
    source: row.source,
    receivedAt: row.receivedAt,
  };
}

/**
 * What real terminals in the field show an operator: rejected records, how far a terminal's clock
 * is off, and whether it answers the background catch-up. Kept apart from the registry's
 * connection-state writes, which it never touches.
 */
/** Clock warnings logged one by one per minute; past them, a minute's others are counted in one line. */
const CLOCK_WARNINGS_PER_MINUTE = 10;
const CLOCK_WARNING_WINDOW_MS = 60_000;

@Injectable()
export class TerminalFieldService {
  private readonly logger = new Logger('TerminalField');
  /** This minute's clock warnings: a fleet with wrong clocks reconnecting must not flood the log. */
  private clockWarnings = { start: 0, logged: 0, skipped: 0 };
  /** Clocks measured from sendlogs of many terminals are written together. */
  private readonly clockWrites = new CallBatcher<{ sn: string; clock: TerminalClockState }, void>(async (entries) => {
    await this.devices.setClocks(entries);
    return entries.map(() => undefined);
  });

  constructor(
    private readonly devices: DevicesRepository,
    private readonly rejected: RejectedRecordsRepository,
    @Inject(devicesConfig.KEY) private readonly cfg: ConfigType<typeof devicesConfig>,
  ) {}

  /**
   * The terminal's clock as its reg reports it (devinfo.time, wall time in its zone), to be written
   * with the registration (undefined when the reg carries no readable time). Warns when it is off
   * by more than DEVICE_MAX_FUTURE_SKEW.
   */
  regClock(sn: string, deviceTime: unknown, timeZone: string, receivedAt: Date): TerminalClockState | undefined {
    if (typeof deviceTime !== 'string') return undefined;
    const at = parseTerminalTime(deviceTime, timeZone);
    if (!at) return undefined;
    return this.measured(sn, at.getTime() - receivedAt.getTime(), 'reg', receivedAt);
  }

  /** A sendlog whose newest record is dated beyond DEVICE_MAX_FUTURE_SKEW: the terminal's clock is ahead. */
  async recordSendlogClock(sn: string, latest: Date | undefined, receivedAt: Date): Promise<void> {
    if (!latest) return;
    const offsetMs = latest.getTime() - receivedAt.getTime();
    if (offsetMs <= this.cfg.maxFutureSkewMs) return;
    await this.saveClock(sn, offsetMs, 'sendlog', receivedAt);
  }

  private async saveClock(sn: string, offsetMs: number, source: 'reg' | 'sendlog', at: Date): Promise<void> {
    await this.clockWrites.add({ sn, clock: this.measured(sn, offsetMs, source, at) });
  }

  private measured(sn: string, offsetMs: number, source: 'reg' | 'sendlog', at: Date): TerminalClockState {
    const offsetSeconds = Math.round(offsetMs / 1000);
    if (Math.abs(offsetMs) > this.cfg.maxFutureSkewMs) {
      this.warnClock(`${sn}: terminal clock is ${offsetSeconds} s off the server's (from its ${source})`);
    }
    return { offsetSeconds, measuredAt: at, source };
  }

  /** Every terminal's offset is on its document (GET /api/devices/:sn); the log names the first few per minute. */
  private warnClock(line: string, now = Date.now()): void {
    const w = this.clockWarnings;
    if (now - w.start >= CLOCK_WARNING_WINDOW_MS) {
      if (w.skipped > 0) {
        this.logger.warn(
          `${w.skipped} more terminal clocks off by more than DEVICE_MAX_FUTURE_SKEW in the last minute`,
        );
      }
      this.clockWarnings = { start: now, logged: 0, skipped: 0 };
    }
    if (this.clockWarnings.logged >= CLOCK_WARNINGS_PER_MINUTE) {
      this.clockWarnings.skipped++;
      return;
    }
    this.clockWarnings.logged++;
    this.logger.warn(line);
  }

  async catchUpState(sn: string): Promise<CatchUpState | undefined> {
    return (await this.devices.findBySn(sn))?.catchUp;
  }

  async recordCatchUp(sn: string, supported: boolean, lastError: string | null): Promise<void> {
    await this.devices.setCatchUp(sn, { supported, lastError, at: new Date() });
  }

  async rejectedCount(sn: string): Promise<number> {
    return this.rejected.countBySn(sn);
  }

  async rejectedPage(sn: string, page: number, limit: number): Promise<{ total: number; items: RejectedLogView[] }> {
    const { total, items } = await this.rejected.listBySn(sn, (page - 1) * limit, limit);
    return { total, items: items.map(toRejectedLogView) };
  }
}
