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

const NONE: readonly string[] = Object.freeze([]);

/**
 * One terminal socket: identity once registered, liveness, rate limit, and its ordered request
 * chain. Its state changes only through its own methods (the gateway and the request handlers
 * read it). Thousands are held at once, so what most sockets never need is created on first use.
 */
export class TerminalSession implements RegistryConnection {
  /** Recorded in the terminal's document: a late close of this socket cannot touch a newer one. */
  readonly id = randomUUID();
  lastLifeAt = Date.now();
  private _sn: string | undefined;
  private _ready = false;
  private _released = false;
  private _closeReason: string | undefined;
  private _supersedes: string[] | undefined;
  private lastSeenWrittenAt = 0;
  private lastSeenWrittenLife = 0;
  private lifeWaiters: Set<() => void> | undefined;
  private chain: Promise<void> | undefined;
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
    /** Unsent bytes past which the socket is closed (WS_MAX_BUFFERED); 0 = no bound. */
    private readonly maxBufferedBytes = 0,
  ) {}

  /** The serial its first accepted `reg` named (undefined before). */
  get sn(): string | undefined {
    return this._sn;
  }

  /** Its `reg` has been answered. */
  get ready(): boolean {
    return this._ready;
  }

  /** Gone from the registry (closed, replaced or shut down): its end must not be reported again. */
  get released(): boolean {
    return this._released;
  }

  /** Why the socket ended (or is ending), when the server decided it. */
  get closeReason(): string | undefined {
    return this._closeReason;
  }

  /** Sockets this one replaced: if it ends before its own registration was written, they are offline too. */
  get supersedes(): readonly string[] {
    return this._supersedes ?? NONE;
  }

  /** The socket now belongs to `sn` (its first accepted `reg`); a socket never changes terminal. */
  bind(sn: string): void {
    if (this._sn !== undefined && this._sn !== sn) throw new Error(`socket of ${this._sn} cannot become ${sn}`);
    this._sn = sn;
  }

  /**
   * This socket takes over from `previous`, the terminal's earlier socket: that one's end reports
   * nothing (it is released, reason "replaced") and it is cut now (a half-open socket would never
   * finish a close handshake).
   */
  replace(previous: TerminalSession): void {
    previous._released = true;
    previous._closeReason = 'replaced';
    (this._supersedes ??= []).push(previous.id, ...previous.supersedes);
    previous.ws.terminate();
  }

  /** Its registration was written (with `lastSeenAt` from its last sign of life) and answered. */
  registered(): void {
    this.notedLastSeen(Date.now());
    this._ready = true;
  }

  /**
   * True once per DEVICE_LAST_SEEN_WRITE_INTERVAL while the socket shows life, for a registered
   * socket still the terminal's: the caller writes `lastSeenAt` (which this records as written).
   */
  lastSeenDue(now: number, intervalMs: number): boolean {
    if (!this._ready || this._sn === undefined || this._released) return false;
    if (this.lastLifeAt <= this.lastSeenWrittenLife || now - this.lastSeenWrittenAt < intervalMs) return false;
    this.notedLastSeen(now);
    return true;
  }

  private notedLastSeen(now: number): void {
    this.lastSeenWrittenAt = now;
    this.lastSeenWrittenLife = this.lastLifeAt;
  }

  /** Takes the session out of play once: false when it already was (its end is reported once). */
  release(): boolean {
    if (this._released) return false;
    this._released = true;
    return true;
  }

  /** Ends the socket with a close frame, for `reason`. */
  close(reason: string, code: number, text: string): void {
    this._closeReason = reason;
    this.ws.close(code, text);
  }

  /** Ends the socket at once (no close handshake), for `reason` when given. */
  terminate(reason?: string): void {
    if (reason !== undefined) this._closeReason = reason;
    this.ws.terminate();
  }

  /** Records why the socket ends, unless an earlier reason was recorded (that one stands). */
  noteCloseReason(reason: string): void {
    this._closeReason ??= reason;
  }

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
      this.noteCloseReason('not_reading');
      this.warn(`more than ${this.maxBufferedBytes} bytes unsent (the terminal does not read): socket closed`);
      this.ws.terminate();
      return false;
    }
    return true;
  }

  /** A frame or a pong arrived: the socket is alive. */
  noteLife(now = Date.now()): void {
    this.lastLifeAt = now;
    if (!this.lifeWaiters || this.lifeWaiters.size === 0) return;
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
        this.lifeWaiters?.delete(wake);
        this.ws.off('close', onClose);
        resolve(alive);
      };
      const wake = () => done(true);
      const onClose = () => done(false);
      const timer = setTimeout(() => done(false), timeoutMs);
      (this.lifeWaiters ??= new Set()).add(wake);
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
    this.chain = (this.chain ?? Promise.resolve())
      .then(task)
      .catch((err: unknown) => {
        this.logger.error(
          `${this.label}: request failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
        );
      })
      .finally(() => {
        // Nothing waits any more: the settled chain is let go (an idle socket keeps no promises).
        if (--this.queued === 0) this.chain = undefined;
      });
    return true;
  }

  /** Settles once every queued request has been handled. */
  idle(): Promise<void> {
    return this.chain ?? Promise.resolve();
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
