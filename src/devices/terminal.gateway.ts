import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { parseFrame } from '@app/device-protocol';
import type { IncomingMessage } from 'node:http';
import { RawData, WebSocket, WebSocketServer } from 'ws';
import { appConfig } from '../config/app.config';
import { devicesConfig } from '../config/devices.config';
import { HealthService } from '../health/health.service';
import { AdmissionStats, ConnectionAdmission, SHED_CLOSE_CODE } from './connection-admission';
import { withLogFields } from '../logging/log-context';
import { countFrameIn, countSocket, timeTerminalRequest } from '../metrics/hooks';
import { DeviceConnectionRegistry } from './device-connection.registry';
import { DevicesService } from './devices.service';
import { FrameRateLimiter, type FrameRateLimitOptions } from './frame-rate-limiter';
import { TerminalRequestsService } from './terminal-requests.service';
import { RegistrationDeadlines } from './registration-deadlines';
import { TerminalSession } from './terminal-session';

/** A socket names the session it carries (read by the listeners every socket shares). */
const SESSION = Symbol('terminalSession');
type SessionSocket = WebSocket & { [SESSION]?: TerminalSession };
const sessionOf = (ws: WebSocket): TerminalSession | undefined => (ws as SessionSocket)[SESSION];

const FLOOD_CLOSE_CODE = 1008;
const POLICY_CLOSE_CODE = 1008;
/** Requests a socket may send before its registration: reg, and the two whose answer the terminal waits for. */
const BEFORE_REGISTRATION = new Set(['reg', 'sendlog', 'senduser']);

/**
 * The terminals' WebSocket endpoint. Owns a `ws` server on WS_PORT (any URL path), routes each
 * frame by `cmd` (terminal requests, handled in order per socket) or `ret` (replies to our
 * commands, published on the registry), watches liveness and keeps `lastSeenAt` fresh.
 */
@Injectable()
export class TerminalGateway implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('TerminalGateway');
  private server: WebSocketServer | undefined;
  private readonly sessions = new Set<TerminalSession>();
  private timer: NodeJS.Timeout | undefined;
  private listening = false;
  private stopping = false;
  private readonly admission: ConnectionAdmission;
  /** The frame rate limit every socket's limiter reads (one object, not one per socket). */
  private readonly rateLimit: FrameRateLimitOptions;
  /** One timer for every socket's WS_REG_TIMEOUT (not one per socket). */
  private readonly regDeadlines: RegistrationDeadlines<TerminalSession>;

  constructor(
    private readonly registry: DeviceConnectionRegistry,
    private readonly devices: DevicesService,
    private readonly requests: TerminalRequestsService,
    private readonly health: HealthService,
    @Inject(devicesConfig.KEY) private readonly cfg: ConfigType<typeof devicesConfig>,
    @Inject(appConfig.KEY) private readonly app: ConfigType<typeof appConfig>,
  ) {
    this.admission = new ConnectionAdmission(cfg.wsMaxPendingRegistrations, this.logger);
    this.rateLimit = Object.freeze({
      ratePerSecond: cfg.cmdRatePerSecond,
      windowMs: cfg.cmdRateWindowMs,
      floodDrops: cfg.floodCloseDrops,
    });
    // A socket that does not register in time is ended, whatever it sent meanwhile.
    this.regDeadlines = new RegistrationDeadlines<TerminalSession>(cfg.regTimeoutMs, (session) => {
      session.noteCloseReason('no_registration');
      session.warn(`no registration within WS_REG_TIMEOUT (${this.cfg.regTimeoutMs} ms): socket closed`);
      session.terminate();
    });
  }

  /** Listeners shared by every socket (`this` is the socket, which names its session). */
  private readonly socketListeners = ((gateway: TerminalGateway) => ({
    message(this: WebSocket, data: RawData, isBinary: boolean): void {
      const session = sessionOf(this);
      if (session)
        withLogFields(
          () => ({ sn: session.sn }),
          () => gateway.onMessage(session, data, isBinary),
        );
    },
    pong(this: WebSocket): void {
      sessionOf(this)?.noteLife();
    },
    error(this: WebSocket, err: Error & { code?: string }): void {
      const session = sessionOf(this);
      if (session) gateway.onSocketError(session, err);
    },
    close(this: WebSocket, code: number, reason: Buffer): void {
      const session = sessionOf(this);
      if (!session) return;
      gateway.regDeadlines.remove(session);
      withLogFields(
        () => ({ sn: session.sn }),
        () => gateway.onClose(session, code, reason.toString('utf8')),
      );
    },
  }))(this);

  /** Connections accepted, shed (close 1013) and still registering: for metrics. */
  get admissionStats(): AdmissionStats {
    return this.admission.stats;
  }

  /** The port the gateway listens on (the real one when WS_PORT=0). */
  get port(): number {
    const address = this.server?.address();
    return address && typeof address === 'object' ? address.port : 0;
  }

  async onApplicationBootstrap(): Promise<void> {
    this.health.register({ name: 'gateway', isUp: () => this.listening });
    const swept = await this.devices.sweepStale(this.registry.instanceId);
    if (swept > 0)
      this.logger.log(`${swept} terminal(s) held before the last stop, or silent too long, marked offline`);

    const server = new WebSocketServer({
      host: this.cfg.wsHost,
      port: this.cfg.wsPort,
      maxPayload: this.cfg.wsMaxPayloadBytes,
      perMessageDeflate: false,
      clientTracking: false,
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error) =>
        reject(new Error(`Terminal gateway cannot listen on ${this.cfg.wsHost}:${this.cfg.wsPort}: ${err.message}`));
      server.once('error', onError);
      server.once('listening', () => {
        server.off('error', onError);
        resolve();
      });
    });
    server.on('error', (err) => this.logger.error(`Gateway server error: ${err.message}`));
    server.on('connection', (ws, req) => this.onConnection(ws, req));
    this.listening = true;
    this.timer = setInterval(() => this.tick(), this.cfg.pingIntervalMs);
    this.timer.unref();
    this.logger.log(`Terminal gateway on ws://${this.cfg.wsHost}:${this.port} (instance ${this.registry.instanceId})`);
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    this.listening = false;
    if (this.timer) clearInterval(this.timer);
    this.regDeadlines.stop();
    const server = this.server;
    if (!server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    const released: TerminalSession[] = [];
    for (const session of [...this.sessions]) {
      if (this.release(session, 'shutdown')) released.push(session);
      // close() would wait for each terminal's close handshake; terminate() ends the socket now.
      session.terminate();
    }
    this.sessions.clear();
    await Promise.all(
      released.map((s) =>
        this.devices.recordOffline(s.sn!, [s.id, ...s.supersedes], 'shutdown').catch((err: unknown) => {
          this.logger.warn(`${s.label}: could not record offline at shutdown: ${String(err)}`);
        }),
      ),
    );
    await closed;
    this.logger.log('Terminal gateway stopped');
  }

  private onConnection(ws: WebSocket, req: IncomingMessage): void {
    // X-Forwarded-For counts only from a proxy named in TRUST_PROXY, and then its nearest untrusted hop.
    const remote = this.app.trustProxy.clientAddress(req.socket.remoteAddress, req.headers['x-forwarded-for']);
    const path = (req.url ?? '/').slice(0, 200);
    if (this.stopping) {
      ws.terminate();
      return;
    }
    const limiter = new FrameRateLimiter(this.rateLimit);
    const session = new TerminalSession(ws, remote, path, limiter, this.logger, this.cfg.wsMaxBufferedBytes);
    if (!this.admission.admit(session)) {
      ws.close(SHED_CLOSE_CODE, 'server busy, try again later');
      return;
    }
    this.sessions.add(session);
    countSocket(1);
    // The registration line names the terminal and where it came from; per-socket noise stays at debug.
    this.logger.debug(`Terminal connection from ${remote ?? 'unknown address'} on ${path}`);
    // The same four listeners for every socket (no closures per connection): the socket names its session.
    (ws as SessionSocket)[SESSION] = session;
    const on = this.socketListeners;
    ws.on('message', on.message);
    ws.on('pong', on.pong);
    ws.on('error', on.error);
    ws.on('close', on.close);
    this.regDeadlines.add(session);
  }

  private onSocketError(session: TerminalSession, err: Error & { code?: string }): void {
    if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
      session.noteCloseReason('frame_too_large');
      session.warn(`frame larger than WS_MAX_PAYLOAD (${this.cfg.wsMaxPayloadBytes} bytes): socket closed`);
    } else {
      session.noteCloseReason('socket_error');
      session.warn(`socket error: ${err.message}`);
    }
  }

  private onMessage(session: TerminalSession, data: RawData, isBinary: boolean): void {
    session.noteLife();
    let frames: ReturnType<typeof parseFrame>;
    try {
      frames = parseFrame(data, this.frameLimits);
    } catch (err) {
      session.warn(`frame dropped: ${String(err)}`);
      return;
    }
    for (const frame of frames) {
      countFrameIn(frame);
      if (!session.ready && !session.sn && !(frame.kind === 'request' && BEFORE_REGISTRATION.has(frame.cmd))) {
        this.refuseBeforeRegistration(session, frame.kind === 'request' ? `"${frame.cmd}"` : `a ${frame.kind} frame`);
        return;
      }
      switch (frame.kind) {
        case 'reply':
          if (!session.sn || !session.ready || !this.registry.isCurrent(session.sn, session)) {
            session.warn(`reply "${frame.ret}" from a socket that is not registered dropped`);
            break;
          }
          this.registry.deliverReply(session.sn, frame.ret, frame.msg);
          break;
        case 'request': {
          if (!this.admitFrame(session)) return;
          const { cmd, msg } = frame;
          if (!session.enqueue(timeTerminalRequest(cmd, () => this.requests.handle(session, cmd, msg)))) {
            session.warn(`"${cmd}" dropped: too many requests waiting`);
          }
          break;
        }
        case 'invalid':
          if (!this.admitFrame(session)) return;
          session.warn(`${isBinary ? 'binary ' : ''}frame dropped: ${frame.reason} (${frame.excerpt.slice(0, 120)})`);
          break;
      }
    }
  }

  private get frameLimits() {
    return {
      maxObjects: this.cfg.frameMaxObjects,
      maxDepth: this.cfg.frameMaxDepth,
      maxValues: this.cfg.frameMaxValues,
    };
  }

  /** Before its registration a socket may only register: anything else ends it, unanswered. */
  private refuseBeforeRegistration(session: TerminalSession, what: string): void {
    if (session.closeReason === 'not_registered') return;
    session.warn(`${what} before registration: socket closed`);
    session.close('not_registered', POLICY_CLOSE_CODE, 'registration required');
  }

  /** Rate limit for what a terminal sends on its own; a sustained flood closes the socket. */
  private admitFrame(session: TerminalSession): boolean {
    const decision = session.limiter.take();
    if (decision === 'accept') return true;
    if (decision === 'flood') {
      if (session.closeReason === 'flood') return false;
      this.logger.warn(`${session.label}: sustained frame flood (${session.limiter.dropped} dropped): socket closed`);
      session.close('flood', FLOOD_CLOSE_CODE, 'frame rate limit');
      return false;
    }
    session.warn(
      `frame dropped: more than ${this.cfg.cmdRatePerSecond} frames/s (${session.limiter.dropped} dropped so far)`,
    );
    return false;
  }

  private onClose(session: TerminalSession, code: number, reason: string): void {
    this.sessions.delete(session);
    this.admission.settled(session);
    countSocket(-1);
    const why = session.closeReason ?? `closed (${code}${reason ? ` ${reason}` : ''})`;
    if (session.sn) this.logger.debug(`${session.sn}: connection ended: ${why}`);
    if (!this.release(session, why) || !session.sn) return;
    this.devices.recordOffline(session.sn, [session.id, ...session.supersedes], why).catch((err: unknown) => {
      this.logger.warn(`${session.label}: could not record offline: ${String(err)}`);
    });
  }

  /** Takes a session out of the registry once; true when it was the terminal's current socket. */
  private release(session: TerminalSession, reason: string): boolean {
    if (!session.release()) return false;
    return session.sn !== undefined && this.registry.release(session.sn, session, reason);
  }

  /** Ping, liveness and registration deadlines, and the bounded-rate `lastSeenAt` writes. */
  private tick(): void {
    const now = Date.now();
    const fresh: { sn: string; connectionId: string; instanceId: string; at: Date }[] = [];
    for (const session of this.sessions) {
      if (now - session.lastLifeAt > this.cfg.livenessTimeoutMs) {
        session.terminate('liveness_timeout');
        continue;
      }
      if (session.open) session.ws.ping();
      if (session.lastSeenDue(now, this.cfg.lastSeenWriteIntervalMs)) {
        fresh.push({
          sn: session.sn!,
          connectionId: session.id,
          instanceId: this.registry.instanceId,
          at: new Date(session.lastLifeAt),
        });
      }
    }
    if (fresh.length > 0) {
      this.devices.recordLiveness(fresh).catch((err: unknown) => {
        this.logger.warn(`Could not record last-seen of ${fresh.length} terminal(s): ${String(err)}`);
      });
    }
  }
}
