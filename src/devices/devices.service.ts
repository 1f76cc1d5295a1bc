import { Inject, Injectable } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { devicesConfig } from '../config/devices.config';
import { CallBatcher } from '@app/common';
import { DeviceConnectionRegistry } from './device-connection.registry';
import { DeviceDetailView, DeviceView, isFresh, toDeviceDetailView, toDeviceView } from './device.view';
import { DeviceRecord, DeviceSettingsPatch, DevicesRepository, RegistrationInput } from './devices.repository';

export interface TerminalContext {
  sn: string;
  known: boolean;
  timeZone: string;
  name?: string;
}

/** Past this many cached contexts, a miss first drops the expired ones. */
const FRAME_CONTEXT_PRUNE_AT = 1024;

/** Terminals: what they reported, whether they are online (across instances), and operator settings. */
@Injectable()
export class DevicesService {
  private readonly allowList: ReadonlySet<string>;
  /** Connection-state writes of one sn run in order, so the document ends with the newest state. */
  private readonly writeChains = new Map<string, Promise<unknown>>();
  private readonly frameContexts = new Map<string, { readAt: number; ctx: Promise<TerminalContext> }>();
  /** The frame contexts not cached, of terminals sending at the same time, read in one query. */
  private readonly contextReads = new CallBatcher<string, TerminalContext>(async (sns) => {
    const found = await this.repo.findFrameContexts(sns);
    return sns.map((sn) => this.contextOf(sn, found.get(sn) ?? null));
  });
  /**
   * Registrations waiting together for one write (a fleet reconnecting after a restart): under a
   * burst, one write per DEVICE_REG_WRITE_INTERVAL; a lone registration is written at once.
   */
  private readonly registrations: CallBatcher<RegistrationInput, undefined>;

  constructor(
    private readonly repo: DevicesRepository,
    @Inject(devicesConfig.KEY) private readonly cfg: ConfigType<typeof devicesConfig>,
    private readonly registry: DeviceConnectionRegistry,
  ) {
    this.allowList = new Set(cfg.allowList);
    this.registrations = new CallBatcher((inputs) => this.repo.markRegisteredMany(inputs), 1000, {
      minIntervalMs: cfg.regWriteIntervalMs,
    });
  }

  private leaseCutoff(now = Date.now()): Date {
    return new Date(now - this.cfg.onlineLeaseMs);
  }

  async findBySn(sn: string): Promise<DeviceDetailView | null> {
    const doc = await this.repo.findBySn(sn);
    return doc ? toDeviceDetailView(doc, this.cfg.defaultTimeZone, this.leaseCutoff()) : null;
  }

  /**
   * Registered on a socket of this instance (its document may not show it yet: a known terminal's
   * reg is answered before its write), or the online flag set by the instance holding the socket,
   * and its lease still fresh.
   */
  async isOnline(sn: string): Promise<boolean> {
    if (this.registry.isConnected(sn)) return true;
    const doc = await this.repo.findBySn(sn);
    return doc !== null && isFresh(doc, this.leaseCutoff());
  }

  /** Zone and name the terminal's records are read with. */
  async context(sn: string): Promise<TerminalContext> {
    const doc = await this.repo.findBySn(sn);
    return this.contextOf(sn, doc);
  }

  /**
   * The context for a frame of a registered terminal, read at most once per DEVICE_FRAME_CONTEXT_TTL:
   * reading the document for every sendlog was one more database round trip before each ack. The
   * reads of terminals whose context is due at the same time go together in one query.
   */
  async frameContext(sn: string, now = Date.now()): Promise<TerminalContext> {
    const cached = this.frameContexts.get(sn);
    const ttl = this.cfg.frameContextTtlMs;
    if (cached && now - cached.readAt < ttl) return cached.ctx;
    if (this.frameContexts.size >= FRAME_CONTEXT_PRUNE_AT) {
      for (const [key, entry] of this.frameContexts) {
        if (now - entry.readAt >= ttl) this.frameContexts.delete(key);
      }
    }
    const ctx = this.contextReads.add(sn);
    const entry = { readAt: now, ctx };
    this.frameContexts.set(sn, entry);
    ctx.catch(() => {
      if (this.frameContexts.get(sn) === entry) this.frameContexts.delete(sn);
    });
    return ctx;
  }

  contextOf(sn: string, doc: Pick<DeviceRecord, 'timeZone' | 'name'> | null): TerminalContext {
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
    this.frameContexts.delete(sn);
    if (patch.allowed === true) {
      // Approving a terminal that waits for approval (DEVICE_ADMISSION=approve) admits its next reg.
      const trust = await this.repo.findTrust(sn);
      if (trust?.admission === 'pending') patch = { ...patch, admission: 'approved' };
    }
    const doc = await this.repo.updateSettings(sn, patch);
    this.frameContexts.delete(sn);
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

  // ---- used by the gateway ----

  async findRecord(sn: string): Promise<DeviceRecord | null> {
    return this.repo.findBySn(sn);
  }

  async findAdmission(sn: string): Promise<Pick<DeviceRecord, 'allowed'> | null> {
    return this.repo.findAdmission(sn);
  }

  /**
   * The terminal's document after an accepted `reg`: online on this socket, what it reported, the
   * identity to pin and its clock offset. Ordered with the sn's other connection-state writes (an
   * offline mark of this socket lands after it).
   */
  async recordRegistration(input: RegistrationInput): Promise<void> {
    await this.serialised(input.sn, () => this.registrations.add(input));
  }

  /** `lastSeenAt` of terminals whose socket this instance holds (also re-asserts that socket as theirs). */
  async recordLiveness(entries: { sn: string; connectionId: string; instanceId: string; at: Date }[]): Promise<void> {
    // One write for the whole sweep (a round trip per terminal cost more than the sockets at
    // thousands of terminals), still ordered after and before the other writes of each sn.
    await this.serialisedMany(
      entries.map((e) => e.sn),
      () => this.repo.touchLastSeen(entries),
    );
  }

  /** Offline, unless the terminal has a newer connection than these sockets by now. */
  async recordOffline(sn: string, connectionIds: string[], reason: string): Promise<void> {
    await this.serialised(sn, () => this.repo.markOffline(connectionIds, reason, new Date()));
  }

  private serialised<T>(sn: string, task: () => Promise<T>): Promise<T> {
    return this.serialisedMany([sn], task);
  }

  /** Runs `task` after the pending writes of every sn in `sns`; their next writes wait for it. */
  private serialisedMany<T>(sns: string[], task: () => Promise<T>): Promise<T> {
    const pending: Promise<unknown>[] = [];
    for (const sn of sns) {
      const previous = this.writeChains.get(sn);
      if (previous) pending.push(previous.catch(() => undefined));
    }
    const run = (pending.length === 0 ? Promise.resolve() : Promise.all(pending)).then(task);
    for (const sn of sns) this.writeChains.set(sn, run);
    void run
      .catch(() => undefined)
      .then(() => {
        for (const sn of sns) if (this.writeChains.get(sn) === run) this.writeChains.delete(sn);
      });
    return run;
  }

  /** At boot: terminals this instance held before it stopped, and all whose lease expired, are offline. */
  async sweepStale(instanceId: string): Promise<number> {
    const now = Date.now();
    return this.repo.markStaleOffline(instanceId, this.leaseCutoff(now), new Date(now));
  }

  /** A terminal created by an admin before it connects; null when the sn exists already. */
  async create(input: { sn: string; name?: string; timeZone?: string }): Promise<DeviceDetailView | null> {
    const doc = await this.repo.createIfAbsent(input);
    this.frameContexts.delete(input.sn);
    return doc ? toDeviceDetailView(doc, this.cfg.defaultTimeZone, this.leaseCutoff()) : null;
  }

  async recordDeviceLog(sn: string): Promise<void> {
    await this.repo.noteDeviceLog(sn, new Date());
  }
}
