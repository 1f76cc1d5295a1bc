import { DEVINFO_NUMBER_FIELDS } from '@app/device-protocol';
import type { TerminalIdentityRecord } from './schemas/device.schema';

/** The hardware identity a `reg` offers: its `cpusn` and the `mac` of its devinfo, normalised. */
export interface TerminalIdentity {
  cpusn?: string;
  mac?: string;
}

const MAX_ID_CHARS = 64;

function clean(value: unknown): string | undefined {
  if (typeof value !== 'string' && typeof value !== 'number') return undefined;
  const text = String(value).trim().slice(0, MAX_ID_CHARS);
  return text.length > 0 ? text : undefined;
}

/** `00-01-a9-00-00-01`, `00:01:A9:00:00:01` and `0001A9000001` are one address. */
export function normaliseMac(value: unknown): string | undefined {
  const text = clean(value);
  if (text === undefined) return undefined;
  const hex = text.replace(/[^0-9a-f]/gi, '').toUpperCase();
  return hex.length > 0 ? hex : text.toUpperCase();
}

export function identityOf(cpusn: unknown, devinfo: Record<string, unknown> | undefined): TerminalIdentity {
  const id: TerminalIdentity = {};
  const cpu = clean(cpusn);
  const mac = normaliseMac(devinfo?.mac);
  if (cpu !== undefined) id.cpusn = cpu;
  if (mac !== undefined) id.mac = mac;
  return id;
}

/**
 * The identity a terminal is held to. A pin written by this version wins; a terminal registered
 * before pinning existed is held to the cpusn and mac it last reported; after an admin reset
 * (`{resetAt}` only) nothing is pinned until the next registration.
 */
export function pinnedIdentity(doc: {
  identity?: TerminalIdentityRecord;
  cpusn?: string;
  devinfo?: { mac?: unknown };
}): TerminalIdentity {
  if (doc.identity !== undefined) {
    const id: TerminalIdentity = {};
    if (doc.identity.cpusn !== undefined) id.cpusn = doc.identity.cpusn;
    if (doc.identity.mac !== undefined) id.mac = doc.identity.mac;
    return id;
  }
  return identityOf(doc.cpusn, doc.devinfo);
}

export type IdentityCheck =
  /** matches every pinned part; `pin` is set when the stored pin should be written (new or stronger) */
  { ok: true; pin?: TerminalIdentity } | { ok: false; differs: ('cpusn' | 'mac')[] };

/**
 * A pinned part that the new `reg` leaves out counts as different (an impostor would simply omit
 * it). A part the pin lacks is added once the rest matches, so the pin only ever gets stronger.
 */
export function checkIdentity(pinned: TerminalIdentity, offered: TerminalIdentity): IdentityCheck {
  const differs: ('cpusn' | 'mac')[] = [];
  if (pinned.cpusn !== undefined && offered.cpusn !== pinned.cpusn) differs.push('cpusn');
  if (pinned.mac !== undefined && offered.mac !== pinned.mac) differs.push('mac');
  if (differs.length > 0) return { ok: false, differs };
  const merged: TerminalIdentity = { ...offered, ...pinned };
  const stronger = merged.cpusn !== pinned.cpusn || merged.mac !== pinned.mac;
  return stronger ? { ok: true, pin: merged } : { ok: true };
}

/** Every devinfo field the reference defines; a devinfo too large to keep is cut to these. */
export const KNOWN_DEVINFO_FIELDS: readonly string[] = [
  'modelname',
  'fpalgo',
  'firmware',
  'time',
  'mac',
  ...DEVINFO_NUMBER_FIELDS,
  'netinuse',
  'usb4g',
  'intercom',
  'floors',
  'charid',
  'useosdp',
  'dislanguage',
];

const KNOWN_VALUE_CHARS = 128;

/**
 * A devinfo whose JSON is larger than `maxBytes` keeps only the known fields, each a number,
 * boolean or short string: a terminal record cannot be used to store megabytes.
 */
export function capDevinfo(
  devinfo: Record<string, unknown>,
  maxBytes: number,
): { devinfo: Record<string, unknown>; cut: boolean } {
  if (Buffer.byteLength(JSON.stringify(devinfo)) <= maxBytes) return { devinfo, cut: false };
  const kept: Record<string, unknown> = {};
  for (const key of KNOWN_DEVINFO_FIELDS) {
    const v = devinfo[key];
    if (typeof v === 'number' || typeof v === 'boolean') kept[key] = v;
    else if (typeof v === 'string') kept[key] = v.slice(0, KNOWN_VALUE_CHARS);
  }
  return { devinfo: kept, cut: true };
}
