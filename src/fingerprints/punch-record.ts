import { formatTerminalTime, normaliseWallClockText, parseTerminalTime } from '@app/device-protocol';

/** A record of a frame the store cannot take: its position in the frame, and why. */
export interface InvalidPunch {
  index: number;
  reason: string;
}

/** A frame refused because of one record, named by index; nothing of the frame was stored. */
export class InvalidPunchError extends Error implements InvalidPunch {
  constructor(
    readonly index: number,
    readonly reason: string,
  ) {
    super(`record ${index}: ${reason}`);
    this.name = 'InvalidPunchError';
  }
}

export interface PunchTime {
  instant: Date;
  /** The terminal's wall time as `YYYY-MM-DDTHH:MM:SS`. */
  localTime: string;
}

/**
 * Reads a terminal time in the terminal's zone (`known`: the instant the caller already read
 * from this text in this zone). The wall time forwarded to HR is the text the
 * terminal sent, padded; only a text that names its own zone is re-expressed in the terminal's zone.
 */
export function readPunchTime(raw: unknown, timeZone: string, known?: Date): PunchTime | null {
  if (typeof raw !== 'string') return null;
  // Zone conversion is the costly part of ingest: a caller that already read the text passes it.
  const instant = known ?? parseTerminalTime(raw, timeZone);
  if (!instant) return null;
  const wall = normaliseWallClockText(raw) ?? formatTerminalTime(instant, timeZone);
  return { instant, localTime: wall.replace(' ', 'T') };
}

export interface DedupeFields {
  sn: string;
  enrollid: string;
  instant: Date;
  mode: number | null;
  inout: number | null;
  event: number;
}

/** The identity of a terminal punch: (sn, enrollid, instant, mode, inout, event). */
export function terminalDedupeKey(f: DedupeFields): string {
  return 't:' + JSON.stringify([f.sn, f.enrollid, f.instant.getTime(), f.mode, f.inout, f.event]);
}

/** App punches are never duplicates of each other: keyed by their own id. */
export function appDedupeKey(id: string): string {
  return `a:${id}`;
}

export function optionalInt(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? Math.trunc(value) : null;
}

export function optionalNumber(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}
