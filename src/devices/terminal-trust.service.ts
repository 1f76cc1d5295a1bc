import { Inject, Injectable, Logger } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { devicesConfig } from '../config/devices.config';
import { CallBatcher } from '@app/common';
import { DeviceConnectionRegistry } from './device-connection.registry';
import { DevicesRepository, TrustRecord } from './devices.repository';
import type { TerminalIdentityRecord } from './schemas/device.schema';
import { capDevinfo, checkIdentity, identityOf, pinnedIdentity } from './terminal-identity';
import { TerminalSession } from './terminal-session';

export interface RegistrationClaim {
  sn: string;
  cpusn?: string;
  devinfo: Record<string, unknown>;
  remoteAddress?: string;
  /** first `reg` on its socket (a repeated one is a heartbeat of an accepted socket) */
  firstOnSocket: boolean;
}

/** What the accepted reg's reply and log line need of the stored document (absent for an unknown serial). */
export type KnownDevice = Pick<TrustRecord, 'timeZone' | 'model' | 'firmware'>;

export type RegistrationDecision =
  | { ok: true; pin?: TerminalIdentityRecord; known?: KnownDevice }
  | { ok: false; reason: string; closeReason: 'refused' | 'pending' | 'identity_conflict' };

/** devinfo kept with an identity conflict: enough to tell the two units apart. */
const CONFLICT_DEVINFO_BYTES = 2048;
/** Conflict records and held-for-approval lines per serial per minute; more are counted, not written. */
const NOTES_PER_MINUTE = 10;
const NOTE_WINDOW_MS = 60_000;
const MAX_NOTE_KEYS = 5000;

/**
 * Whether a `reg` may take a serial: admission (DEVICE_ADMISSION, DEVICE_ALLOWLIST, an operator's
 * `allowed`), the hardware identity pinned by the first accepted registration, and the liveness of
 * the socket that holds the serial now (a second live socket for one serial is an impostor; a
 * half-open one that misses its ping gives way to the reconnecting terminal).
 */
@Injectable()
export class TerminalTrustService {
  private readonly logger = new Logger('TerminalTrust');
  private readonly allowList: ReadonlySet<string>;
  private readonly notes = new Map<string, { start: number; count: number; skipped: number }>();
  /** The trust records of registrations arriving together, read in one round trip (DEVICE_REG_READ_INTERVAL). */
  private readonly trustReads: CallBatcher<string, TrustRecord | undefined>;

  constructor(
    private readonly repo: DevicesRepository,
    private readonly registry: DeviceConnectionRegistry,
    @Inject(devicesConfig.KEY) private readonly cfg: ConfigType<typeof devicesConfig>,
  ) {
    this.allowList = new Set(cfg.allowList);
    this.trustReads = new CallBatcher(
      async (sns) => {
        const found = await this.repo.findTrustMany(sns);
        return sns.map((sn) => found.get(sn));
      },
      1000,
      { minIntervalMs: cfg.regReadIntervalMs },
    );
  }

  async checkRegistration(session: TerminalSession, claim: RegistrationClaim): Promise<RegistrationDecision> {
    const { sn } = claim;
    const doc = (await this.trustReads.add(sn)) ?? null;
    const from = claim.remoteAddress ?? 'unknown address';

    if (doc?.allowed === false) {
      this.logger.warn(`${sn}: registration refused (blocked by an operator) from ${from}`);
      return { ok: false, reason: this.cfg.allowListReason, closeReason: 'refused' };
    }
    const preApproved = this.allowList.has(sn) || doc?.allowed === true;
    if (this.cfg.admission === 'approve') {
      if (!preApproved && !isAdmitted(doc)) {
        await this.holdForApproval(claim, doc);
        return { ok: false, reason: this.cfg.pendingReason, closeReason: 'pending' };
      }
    } else if (this.allowList.size > 0 && !preApproved) {
      this.logger.warn(`${sn}: registration refused (allow-list) from ${from}`);
      return { ok: false, reason: this.cfg.allowListReason, closeReason: 'refused' };
    }

    const offered = identityOf(claim.cpusn, claim.devinfo);
    const pinned = doc ? pinnedIdentity(doc) : {};
    const check = checkIdentity(pinned, offered);
    if (!check.ok) {
      await this.conflict(claim, `identity differs (${check.differs.join(', ')})`, 'identity');
      return { ok: false, reason: this.cfg.identityReason, closeReason: 'identity_conflict' };
    }

    if (claim.firstOnSocket) {
      const current = this.registry.connectionOf(sn);
      if (current instanceof TerminalSession && current !== session && current.open) {
        if (await current.probe(this.cfg.identityPingTimeoutMs)) {
          await this.conflict(claim, 'its current socket is alive', 'alive');
          return { ok: false, reason: this.cfg.identityReason, closeReason: 'identity_conflict' };
        }
        this.logger.log(`${sn}: current socket missed its ping: the new connection from ${from} takes over`);
      }
    }

    const known: KnownDevice | undefined = doc
      ? {
          ...(doc.timeZone !== undefined ? { timeZone: doc.timeZone } : {}),
          ...(doc.model !== undefined ? { model: doc.model } : {}),
          ...(doc.firmware !== undefined ? { firmware: doc.firmware } : {}),
        }
      : undefined;
    const stored = doc?.identity;
    const storedPinned = stored !== undefined && (stored.cpusn !== undefined || stored.mac !== undefined);
    const merged = { ...offered, ...pinned };
    if ((merged.cpusn !== undefined || merged.mac !== undefined) && (!storedPinned || check.pin !== undefined)) {
      return { ok: true, pin: { ...merged, pinnedAt: new Date() }, ...(known ? { known } : {}) };
    }
    return { ok: true, ...(known ? { known } : {}) };
  }

  /** The next registration of `sn` pins a new identity; false when the serial is unknown. */
  async resetIdentity(sn: string): Promise<boolean> {
    const found = await this.repo.resetIdentity(sn, new Date());
    if (found) this.logger.warn(`${sn}: hardware identity reset by an admin: the next registration is pinned`);
    return found;
  }

  private async conflict(claim: RegistrationClaim, why: string, reason: string): Promise<void> {
    if (!this.noteAllowed(`conflict:${claim.sn}`)) return;
    this.logger.warn(
      `${claim.sn}: registration refused from ${claim.remoteAddress ?? 'unknown address'}: ${why} (possible impostor)`,
    );
    await this.repo.recordIdentityConflict(claim.sn, {
      at: new Date(),
      remoteAddress: claim.remoteAddress ?? null,
      cpusn: claim.cpusn ?? null,
      reason,
      devinfo: capDevinfo(claim.devinfo, CONFLICT_DEVINFO_BYTES).devinfo,
    });
  }

  private async holdForApproval(claim: RegistrationClaim, doc: TrustRecord | null): Promise<void> {
    const input = {
      ...(claim.cpusn !== undefined ? { cpusn: claim.cpusn } : {}),
      devinfo: capDevinfo(claim.devinfo, this.cfg.devinfoMaxBytes).devinfo,
      ...(claim.remoteAddress !== undefined ? { remoteAddress: claim.remoteAddress } : {}),
      at: new Date(),
    };
    if (doc?.admission !== 'pending') {
      const pending = await this.repo.countPending();
      if (pending >= this.cfg.pendingMax) {
        if (this.noteAllowed('pending-full')) {
          this.logger.warn(`${claim.sn}: registration refused: ${pending} serials already wait (DEVICE_PENDING_MAX)`);
        }
        return;
      }
    }
    await this.repo.recordPending(claim.sn, input, doc !== null);
    if (this.noteAllowed(`pending:${claim.sn}`)) {
      this.logger.warn(
        `${claim.sn}: registration held for approval (PATCH /api/devices/${claim.sn} {"allowed":true}) from ${claim.remoteAddress ?? 'unknown address'}`,
      );
    }
  }

  /** At most NOTES_PER_MINUTE per key: refusals cost the sender, not the log and the database. */
  private noteAllowed(key: string, now = Date.now()): boolean {
    let entry = this.notes.get(key);
    if (!entry || now - entry.start >= NOTE_WINDOW_MS) {
      if (this.notes.size >= MAX_NOTE_KEYS) {
        for (const [k, e] of this.notes) if (now - e.start >= NOTE_WINDOW_MS) this.notes.delete(k);
        // Thousands of serials refused within a minute: a flood, and none of it is worth a write.
        if (this.notes.size >= MAX_NOTE_KEYS) return false;
      }
      if (entry && entry.skipped > 0) this.logger.warn(`${key}: ${entry.skipped} similar refusals not recorded`);
      entry = { start: now, count: 0, skipped: 0 };
      this.notes.set(key, entry);
    }
    if (entry.count >= NOTES_PER_MINUTE) {
      entry.skipped++;
      return false;
    }
    entry.count++;
    return true;
  }
}

/** With DEVICE_ADMISSION=approve: registered before (the field predates approval), or approved. */
function isAdmitted(doc: TrustRecord | null): boolean {
  if (!doc) return false;
  if (doc.admission === 'admitted' || doc.admission === 'approved') return true;
  return doc.admission === undefined && doc.connectedAt != null;
}
