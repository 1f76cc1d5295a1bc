import { Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { WebSocket } from 'ws';
import type { RegistryConnection } from './device-connection.registry';
import { countFrameOut } from '../metrics/hooks';
import { FrameRateLimiter } from './frame-rate-limiter';

/** Requests waiting behind the one being handled; beyond this a terminal is flooding (frames dropped). */
const MAX_QUEUED_REQUESTS = 64;
/** Warnings logged per socket per minute; the rest are counted and summarised. */
const WARNINGS_PER_MINUTE = 10;

/** One terminal socket: identity once registered, liveness, rate limit, and its ordered request chain. */
export class TerminalSession implements RegistryConnection {
  /** Recorded in the terminal's document: a late close of this socket cannot touch a newer one. */
  readonly id = randomUUID();
  readonly connectedAt = Date.now();
  sn: string | undefined;
  /** Its `reg` has been answered. */
  ready = false;
  /** Gone from the registry (closed, replaced or shut down): its end must not be reported again. */
  released = false;
  closeReason: string | undefined;
  /** Sockets this one replaced: if it ends before its own registration was written, they are offline too. */
  readonly supersedes: string[] = [];
  lastLifeAt = Date.now();
  lastSeenWrittenAt = 0;
  lastSeenWrittenLife = 0;
  private chain: Promise<void> = Promise.resolve();
  private queued = 0;
  private warnWindowStart = 0;
  private warnCount = 0;
  private suppressed = 0;

  constructor(
    readonly ws: WebSocket,
    readonly remoteAddress: string | undefined,
    readonly urlPath: string,
    readonly limiter: FrameRateLimiter,
    private readonly logger: Logger,
  ) {}

  get open(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** How the socket is named in logs: its sn once known, else where it comes from. */
  get label(): string {
    return this.sn ?? `unregistered ${this.remoteAddress ?? 'socket'}`;
  }

  sendText(text: string): boolean {
    if (!this.open) return false;
    this.ws.send(text, (err) => {
      if (err) this.logger.warn(`${this.label}: send failed: ${err.message}`);
    });
    return true;
  }

  sendFrame(frame: Record<string, unknown>): boolean {
    const sent = this.sendText(JSON.stringify(frame));
    if (sent) countFrameOut(frame);
    return sent;
  }

  /** Runs requests one after another (a terminal's sendlogs are stored in the order sent). */
  enqueue(task: () => Promise<void>): boolean {
    if (this.queued >= MAX_QUEUED_REQUESTS) return false;
    this.queued++;
    this.chain = this.chain
      .then(task)
      .catch((err: unknown) => {
        this.logger.error(
          `${this.label}: request failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
        );
      })
      .finally(() => {
        this.queued--;
      });
    return true;
  }

  /** Settles once every queued request has been handled. */
  idle(): Promise<void> {
    return this.chain;
  }

  /** Warnings about what a terminal sends, throttled so a misbehaving terminal cannot flood the log. */
  warn(message: string, now = Date.now()): void {
    if (now - this.warnWindowStart >= 60_000) {
      if (this.suppressed > 0) this.logger.warn(`${this.label}: ${this.suppressed} similar warnings suppressed`);
      this.warnWindowStart = now;
      this.warnCount = 0;
      this.suppressed = 0;
    }
    if (this.warnCount < WARNINGS_PER_MINUTE) {
      this.warnCount++;
      this.logger.warn(`${this.label}: ${message}`);
    } else {
      this.suppressed++;
    }
  }
}
