import { Inject, Injectable } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { devicesConfig } from '../config/devices.config';
import { DeviceDetailView, DeviceView, isFresh, toDeviceDetailView, toDeviceView } from './device.view';
import { DeviceRecord, DeviceSettingsPatch, DevicesRepository, RegistrationInput } from './devices.repository';

export interface TerminalContext {
  sn: string;
  known: boolean;
  timeZone: string;
  name?: string;
}

/** Terminals: what they reported, whether they are online (across instances), and operator settings. */
@Injectable()
export class DevicesService {
  private readonly allowList: ReadonlySet<string>;
  /** Connection-state writes of one sn run in order, so the document ends with the newest state. */
  private readonly writeChains = new Map<string, Promise<unknown>>();

  constructor(
    private readonly repo: DevicesRepository,
    @Inject(devicesConfig.KEY) private readonly cfg: ConfigType<typeof devicesConfig>,
  ) {
    this.allowList = new Set(cfg.allowList);
  }

  private leaseCutoff(now = Date.now()): Date {
    return new Date(now - this.cfg.onlineLeaseMs);
  }

  async findBySn(sn: string): Promise<DeviceDetailView | null> {
    const doc = await this.repo.findBySn(sn);
    return doc ? toDeviceDetailView(doc, this.cfg.defaultTimeZone, this.leaseCutoff()) : null;
  }

  /** Online flag set by the instance holding the socket, and its lease still fresh. */
  async isOnline(sn: string): Promise<boolean> {
    const doc = await this.repo.findBySn(sn);
    return doc !== null && isFresh(doc, this.leaseCutoff());
  }

  async getTimeZone(sn: string): Promise<string> {
    return (await this.context(sn)).timeZone;
  }

  /** Zone and name the terminal's records are read with. */
  async context(sn: string): Promise<TerminalContext> {
    const doc = await this.repo.findBySn(sn);
    return this.contextOf(sn, doc);
  }

  contextOf(sn: string, doc: DeviceRecord | null): TerminalContext {
    return {
      sn,
      known: doc !== null,
      timeZone: doc?.timeZone ?? this.cfg.defaultTimeZone,
      ...(doc?.name ? { name: doc.name } : {}),
    };
  }

  async list(opts: { page: number; limit: number; online?: boolean }): Promise<{ total: number; items: DeviceView[] }> {
    const cutoff = this.leaseCutoff();
    const { total, items } = await this.repo.list(
      { online: opts.online, leaseCutoff: cutoff },
      (opts.page - 1) * opts.limit,
      opts.limit,
    );
    return { total, items: items.map((d) => toDeviceView(d, this.cfg.defaultTimeZone, cutoff)) };
  }

  async update(sn: string, patch: DeviceSettingsPatch): Promise<DeviceDetailView | null> {
    const doc = await this.repo.updateSettings(sn, patch);
    return doc ? toDeviceDetailView(doc, this.cfg.defaultTimeZone, this.leaseCutoff()) : null;
  }

  /**
   * Whether a terminal may register / send logs: `allowed: false` refuses it always; with an
   * allow-list configured, it must be on the list or have been allowed by an operator.
   */
  isAdmitted(sn: string, doc: Pick<DeviceRecord, 'allowed'> | null): boolean {
    if (doc?.allowed === false) return false;
    if (this.allowList.size === 0) return true;
    return this.allowList.has(sn) || doc?.allowed === true;
  }

  get allowListEnabled(): boolean {
    return this.allowList.size > 0;
  }

  // ---- used by the gateway ----

  async findRecord(sn: string): Promise<DeviceRecord | null> {
    return this.repo.findBySn(sn);
  }

  async recordRegistration(input: RegistrationInput): Promise<DeviceRecord> {
    return this.serialised(input.sn, () => this.repo.markRegistered(input));
  }

  /** `lastSeenAt` of terminals whose socket this instance holds (also re-asserts that socket as theirs). */
  async recordLiveness(entries: { sn: string; connectionId: string; instanceId: string; at: Date }[]): Promise<void> {
    await Promise.all(entries.map((e) => this.serialised(e.sn, () => this.repo.touchLastSeen(e))));
  }

  /** Offline, unless the terminal has a newer connection than these sockets by now. */
  async recordOffline(sn: string, connectionIds: string[], reason: string): Promise<void> {
    await this.serialised(sn, () => this.repo.markOffline(connectionIds, reason, new Date()));
  }

  private serialised<T>(sn: string, task: () => Promise<T>): Promise<T> {
    const previous = this.writeChains.get(sn) ?? Promise.resolve();
    const run = previous.catch(() => undefined).then(task);
    this.writeChains.set(sn, run);
    void run
      .catch(() => undefined)
      .then(() => {
        if (this.writeChains.get(sn) === run) this.writeChains.delete(sn);
      });
    return run;
  }

  /** At boot: terminals this instance held before it stopped, and all whose lease expired, are offline. */
  async sweepStale(instanceId: string): Promise<number> {
    const now = Date.now();
    return this.repo.markStaleOffline(instanceId, this.leaseCutoff(now), new Date(now));
  }

  async recordDeviceLog(sn: string): Promise<void> {
    await this.repo.noteDeviceLog(sn, new Date());
  }
}
