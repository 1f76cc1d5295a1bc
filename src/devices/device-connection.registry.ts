import { Inject, Injectable, Logger } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { EventEmitter } from 'node:events';
import { devicesConfig } from '../config/devices.config';
import { countFrameOut } from '../metrics/hooks';

export interface TerminalRegisteredEvent {
  sn: string;
  devinfo: Record<string, unknown>;
  /** false for a repeated `reg` on the same socket (a heartbeat). */
  firstOnSocket: boolean;
}
export interface TerminalDisconnectedEvent {
  sn: string;
  reason: string;
}
export interface TerminalReplyEvent {
  sn: string;
  ret: string;
  frame: Record<string, unknown>;
}

/** A user (one credential, or only name/admin) the terminal pushed with `senduser`, after it was stored. */
export interface TerminalUserReceivedEvent {
  sn: string;
  enrollid: number;
  backupnum?: number;
  name?: string;
  admin?: number;
  record?: string | number;
  /** when the server received the frame: the order of enrolments of one id on several terminals */
  receivedAt: Date;
}

export interface DeviceConnectionEvents {
  registered: [TerminalRegisteredEvent];
  disconnected: [TerminalDisconnectedEvent];
  reply: [TerminalReplyEvent];
  userReceived: [TerminalUserReceivedEvent];
}

/** What the registry needs of a socket (the gateway's session implements it). */
export interface RegistryConnection {
  /** Its `reg` has been answered: frames may be sent to it. */
  readonly ready: boolean;
  readonly open: boolean;
  sendText(text: string): boolean;
}

/**
 * The terminals whose sockets this instance holds. One current connection per sn: a new socket
 * for the same sn replaces the old one, and only the current connection's end is reported, so a
 * late close of a replaced socket can never mark a reconnected terminal offline.
 */
@Injectable()
export class DeviceConnectionRegistry extends EventEmitter<DeviceConnectionEvents> {
  private readonly logger = new Logger('DeviceConnectionRegistry');
  private readonly current = new Map<string, RegistryConnection>();
  /** sns announced with `registered` and not yet with `disconnected`. */
  private readonly announced = new Set<string>();
  readonly instanceId: string;

  constructor(@Inject(devicesConfig.KEY) cfg: Pick<ConfigType<typeof devicesConfig>, 'instanceId'>) {
    super();
    this.instanceId = cfg.instanceId;
    // Several modules may subscribe; the default of 10 would warn for no reason.
    this.setMaxListeners(50);
  }

  /** Socket here and its `reg` answered. */
  isConnected(sn: string): boolean {
    const conn = this.current.get(sn);
    return conn !== undefined && conn.ready && conn.open;
  }

  /** Serialises and sends a frame; false when the terminal is not connected (and registered) here. */
  send(sn: string, frame: Record<string, unknown>): boolean {
    const conn = this.current.get(sn);
    if (!conn || !conn.ready || !conn.open) return false;
    let text: string;
    try {
      text = JSON.stringify(frame);
    } catch (err) {
      this.logger.error(`Frame for ${sn} cannot be serialised: ${String(err)}`);
      return false;
    }
    const sent = conn.sendText(text);
    if (sent) countFrameOut(frame);
    return sent;
  }

  connectedSns(): string[] {
    // Read every second by the operation queue's poll: one pass, no intermediate arrays.
    const sns: string[] = [];
    for (const [sn, c] of this.current) if (c.ready && c.open) sns.push(sn);
    return sns;
  }

  // ---- gateway side ----

  /** Makes `conn` the current connection of `sn`; returns the connection it replaces, if any. */
  claim(sn: string, conn: RegistryConnection): RegistryConnection | undefined {
    const previous = this.current.get(sn);
    this.current.set(sn, conn);
    return previous === conn ? undefined : previous;
  }

  isCurrent(sn: string, conn: RegistryConnection): boolean {
    return this.current.get(sn) === conn;
  }

  /**
   * The connection went away. Only the current connection of `sn` is removed (and reported, when
   * `registered` was announced); returns whether it was the current one.
   */
  release(sn: string, conn: RegistryConnection, reason: string): boolean {
    if (this.current.get(sn) !== conn) return false;
    this.current.delete(sn);
    if (this.announced.delete(sn)) this.safeEmit('disconnected', { sn, reason });
    return true;
  }

  /** Emitted after the reg reply was sent, for the current connection only. */
  announceRegistered(sn: string, conn: RegistryConnection, devinfo: Record<string, unknown>, firstOnSocket: boolean) {
    if (this.current.get(sn) !== conn) return;
    this.announced.add(sn);
    this.safeEmit('registered', { sn, devinfo, firstOnSocket });
  }

  /** Emitted after a `senduser` was stored (and before it is acknowledged). */
  announceUserReceived(e: TerminalUserReceivedEvent): void {
    this.safeEmit('userReceived', e);
  }

  deliverReply(sn: string, ret: string, frame: Record<string, unknown>): void {
    if (!this.safeEmit('reply', { sn, ret, frame })) {
      this.logger.debug(`Reply "${ret}" from ${sn} (no listener)`);
    }
  }

  private safeEmit<K extends keyof DeviceConnectionEvents>(event: K, ...args: DeviceConnectionEvents[K]): boolean {
    try {
      return (this as EventEmitter).emit(event, ...args);
    } catch (err) {
      // A failing subscriber must not take the gateway's socket handling down with it.
      this.logger.error(
        `A "${event}" listener threw: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
      );
      return true;
    }
  }
}
