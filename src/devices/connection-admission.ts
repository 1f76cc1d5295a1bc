import type { Logger } from '@nestjs/common';

/** Close code of a connection refused because too many others are still registering ("try again later"). */
export const SHED_CLOSE_CODE = 1013;

/** What admission needs of a connection: whether it has registered yet, whether it is still open. */
export interface AdmissionCandidate {
  readonly ready: boolean;
  readonly open: boolean;
}

export interface AdmissionStats {
  /** Connections accepted since start. */
  accepted: number;
  /** Connections refused at once (close 1013) because too many were still registering. */
  shed: number;
  /** Connections accepted and not registered yet. */
  awaitingRegistration: number;
}

const SHED_LOG_INTERVAL_MS = 10_000;

/**
 * Admission of new terminal connections. Every connection is accepted at once (nothing waits in the
 * kernel's accept queue until its client gives up); while more than `maxPending` accepted
 * connections have not registered yet, a new one is closed straight away with 1013 so the terminal
 * dials again later instead of piling up work the gateway cannot get to. Counted, and logged at
 * most every 10 s.
 */
export class ConnectionAdmission {
  private readonly pending = new Set<AdmissionCandidate>();
  private accepted = 0;
  private shed = 0;
  private shedSinceLog = 0;
  private lastLogAt = -Infinity;

  constructor(
    private readonly maxPending: number,
    private readonly logger: Pick<Logger, 'warn'>,
    private readonly now: () => number = Date.now,
  ) {}

  /** True: admitted. False: the caller closes the socket with SHED_CLOSE_CODE. */
  admit(connection: AdmissionCandidate): boolean {
    if (this.maxPending > 0 && this.pending.size >= this.maxPending) {
      for (const c of this.pending) if (c.ready || !c.open) this.pending.delete(c);
    }
    if (this.maxPending > 0 && this.pending.size >= this.maxPending) {
      this.shed++;
      this.shedSinceLog++;
      const at = this.now();
      if (at - this.lastLogAt >= SHED_LOG_INTERVAL_MS) {
        this.logger.warn(
          `${this.shedSinceLog} new connection(s) refused (close ${SHED_CLOSE_CODE}): ${this.pending.size} ` +
            `connections still registering (WS_MAX_PENDING_REGISTRATIONS=${this.maxPending})`,
        );
        this.lastLogAt = at;
        this.shedSinceLog = 0;
      }
      return false;
    }
    this.accepted++;
    this.pending.add(connection);
    return true;
  }

  /** The connection registered or closed. */
  settled(connection: AdmissionCandidate): void {
    this.pending.delete(connection);
  }

  get stats(): AdmissionStats {
    for (const c of this.pending) if (c.ready || !c.open) this.pending.delete(c);
    return { accepted: this.accepted, shed: this.shed, awaitingRegistration: this.pending.size };
  }
}
