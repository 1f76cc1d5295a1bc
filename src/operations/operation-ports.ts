import type { Json, LogRecord, RejectedLogRecord } from '@app/device-protocol';
import type { LogSource, TerminalDisconnectedEvent, TerminalRegisteredEvent, TerminalReplyEvent } from '../devices';

/** The log reads the queue runs (the other terminal sources are pushed, not pulled). */
export type PulledLogSource = Extract<LogSource, 'getnewlog' | 'getalllog'>;

export type { TerminalDisconnectedEvent, TerminalRegisteredEvent, TerminalReplyEvent };

/**
 * What the queue needs of other modules, as interfaces: the module wires the real providers
 * (devices, fingerprints) with `useExisting`, unit tests pass fakes.
 */

/** This instance's terminal sockets (the devices module's DeviceConnectionRegistry). */
export interface TerminalLink {
  readonly instanceId: string;
  isConnected(sn: string): boolean;
  send(sn: string, frame: Json): boolean;
  connectedSns(): string[];
  on(event: 'registered', listener: (e: TerminalRegisteredEvent) => void): unknown;
  on(event: 'disconnected', listener: (e: TerminalDisconnectedEvent) => void): unknown;
  on(event: 'reply', listener: (e: TerminalReplyEvent) => void): unknown;
  off(event: 'registered', listener: (e: TerminalRegisteredEvent) => void): unknown;
  off(event: 'disconnected', listener: (e: TerminalDisconnectedEvent) => void): unknown;
  off(event: 'reply', listener: (e: TerminalReplyEvent) => void): unknown;
}
export const TERMINAL_LINK = Symbol('TERMINAL_LINK');

/** Known terminals across instances (the devices module's DevicesService). */
export interface TerminalDirectory {
  isOnline(sn: string): Promise<boolean>;
  /** `known`: the terminal has registered at least once; its zone and name otherwise defaults. */
  context(sn: string): Promise<{ known: boolean; timeZone: string; name?: string }>;
}
export const TERMINAL_DIRECTORY = Symbol('TERMINAL_DIRECTORY');

export interface CredentialInput {
  enrollid: number;
  backupnum: number;
  name?: string;
  admin?: number;
  record?: string | number;
}
export interface RosterRow {
  enrollid: number;
  backupnum: number;
  admin?: number;
  name?: string;
}

/** The server's copy of terminal users (the devices module's StoredUsersService). */
export interface DeviceUserStore {
  upsertCredential(sn: string, input: CredentialInput): Promise<unknown>;
  upsertUser(
    sn: string,
    input: { enrollid: number; name?: string; admin?: number; aliasid?: string },
  ): Promise<unknown>;
  removeCredential(sn: string, enrollid: number, backupnum: number): Promise<unknown>;
  replaceRoster(sn: string, rows: RosterRow[]): Promise<unknown>;
  /** `enableuser` succeeded: door decisions follow the terminal's enable flag. */
  setEnabled?(sn: string, enrollid: number, enabled: boolean): Promise<unknown>;
}
export const DEVICE_USER_STORE = Symbol('DEVICE_USER_STORE');

/**
 * Stores the log records of one pulled page (the devices module's TerminalLogsService): punches
 * through fingerprints, door events apart, photos apart; deduplicated, durable when it resolves.
 * Records that cannot be stored (and `rejected`, those the reader could not use) are kept as
 * rejected records; the others are stored.
 */
export interface TerminalLogStore {
  ingest(
    records: LogRecord[],
    ctx: { sn: string; source: PulledLogSource; timeZone: string; deviceName?: string },
    rejected?: readonly RejectedLogRecord[],
  ): Promise<{
    punches: { stored: number; duplicates: number };
    doorEvents: { stored: number; duplicates: number };
    photosDropped: number;
    rejected: number;
  }>;
}
export const TERMINAL_LOG_STORE = Symbol('TERMINAL_LOG_STORE');

/** What the server remembers of a terminal's catch-up (the devices module's TerminalFieldService). */
export interface CatchUpMemory {
  catchUpState(sn: string): Promise<{ supported: boolean; lastError: string | null } | undefined>;
  recordCatchUp(sn: string, supported: boolean, lastError: string | null): Promise<void>;
}
export const CATCH_UP_MEMORY = Symbol('CATCH_UP_MEMORY');
