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
/** Longest log line about one socket. */
const MAX_LINE_CHARS = 300;

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
  /** Unsent bytes past which the socket is closed (WS_MAX_BUFFERED); 0 = no bound. */
  maxBufferedBytes = 0;
  private readonly lifeWaiters = new Set<() => void>();
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
      if (err) this.warn(`send failed: ${err.message}`);
    });
    // A peer that does not read makes the server hold what it is sent: past the bound the socket goes.
    if (this.maxBufferedBytes > 0 && this.ws.bufferedAmount > this.maxBufferedBytes) {
      this.closeReason ??= 'not_reading';
      this.warn(`more than ${this.maxBufferedBytes} bytes unsent (the terminal does not read): socket closed`);
      this.ws.terminate();
      return false;
    }
    return true;
  }

  /** A frame or a pong arrived: the socket is alive. */
  noteLife(now = Date.now()): void {
    this.lastLifeAt = now;
    if (this.lifeWaiters.size === 0) return;
    for (const wake of [...this.lifeWaiters]) wake();
  }

  /**
   * Pings the socket and resolves true when it shows life (a pong or any frame) within
   * `timeoutMs`, false otherwise (a half-open socket never answers).
   */
  probe(timeoutMs: number): Promise<boolean> {
    if (!this.open) return Promise.resolve(false);
    return new Promise((resolve) => {
      const done = (alive: boolean) => {
        clearTimeout(timer);
        this.lifeWaiters.delete(wake);
        this.ws.off('close', onClose);
        resolve(alive);
      };
      const wake = () => done(true);
      const onClose = () => done(false);
      const timer = setTimeout(() => done(false), timeoutMs);
      this.lifeWaiters.add(wake);
      this.ws.once('close', onClose);
      try {
        this.ws.ping();
      } catch {
        done(false);
      }
    });
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

  /** Informational lines about one socket share the warnings' budget: a terminal cannot flood the log with either. */
  info(message: string, now = Date.now()): void {
    this.throttled(message, now, (line) => this.logger.log(line));
  }

  /** Warnings about what a terminal sends, throttled so a misbehaving terminal cannot flood the log. */
  warn(message: string, now = Date.now()): void {
    this.throttled(message, now, (line) => this.logger.warn(line));
  }

  private throttled(text: string, now: number, write: (line: string) => void): void {
    // What a terminal sent may be quoted in a line; it is never logged whole.
    const message = text.length > MAX_LINE_CHARS ? `${text.slice(0, MAX_LINE_CHARS)}...` : text;
    if (now - this.warnWindowStart >= 60_000) {
      if (this.suppressed > 0) this.logger.warn(`${this.label}: ${this.suppressed} similar warnings suppressed`);
      this.warnWindowStart = now;
      this.warnCount = 0;
      this.suppressed = 0;
    }
    if (this.warnCount < WARNINGS_PER_MINUTE) {
      this.warnCount++;
      write(`${this.label}: ${message}`);
    } else {
      this.suppressed++;
    }
  }
}
