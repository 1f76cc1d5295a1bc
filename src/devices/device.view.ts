import type { DeviceRecord } from './devices.repository';

export interface DeviceCounts {
  users: number | null;
  fingerprints: number | null;
  faces: number | null;
  palms: number | null;
  cards: number | null;
  passwords: number | null;
  logs: number | null;
}

export interface DeviceView {
  sn: string;
  name: string | null;
  model: string | null;
  firmware: string | null;
  /** Socket open on some instance and last seen within the online lease. */
  online: boolean;
  lastSeenAt: Date | null;
  connectedAt: Date | null;
  /** Effective zone of the terminal's clock (its own, or the default). */
  timeZone: string;
  /** true when the zone was set for this terminal, false when the default applies. */
  timeZoneConfigured: boolean;
  allowed: boolean | null;
  notes: string | null;
  capacities: DeviceCounts;
  usage: DeviceCounts & { newLogs: number | null; realtimeLogs: number | null };
}

export interface DeviceDetailView extends DeviceView {
  cpusn: string | null;
  devinfo: Record<string, unknown>;
  remoteAddress: string | null;
  urlPath: string | null;
  instanceId: string | null;
  disconnectedAt: Date | null;
  disconnectReason: string | null;
  lastDeviceLogAt: Date | null;
  createdAt: Date | null;
  /** Terminal clock minus server clock (seconds), when measured. */
  clock: { offsetSeconds: number; measuredAt: Date; source: string } | null;
  /** Whether the terminal answers the background catch-up getnewlog; null until tried. */
  catchUp: { supported: boolean; lastError: string | null } | null;
}

function num(devinfo: Record<string, unknown>, key: string): number | null {
  const v = devinfo[key];
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

export function isFresh(doc: Pick<DeviceRecord, 'online' | 'lastSeenAt'>, leaseCutoff: Date): boolean {
  return doc.online === true && doc.lastSeenAt instanceof Date && doc.lastSeenAt.getTime() >= leaseCutoff.getTime();
}

export function toDeviceView(doc: DeviceRecord, defaultTimeZone: string, leaseCutoff: Date): DeviceView {
  const d = doc.devinfo ?? {};
  return {
    sn: doc.sn,
    name: doc.name ?? null,
    model: doc.model ?? null,
    firmware: doc.firmware ?? null,
    online: isFresh(doc, leaseCutoff),
    lastSeenAt: doc.lastSeenAt ?? null,
    connectedAt: doc.connectedAt ?? null,
    timeZone: doc.timeZone ?? defaultTimeZone,
    timeZoneConfigured: doc.timeZone != null,
    allowed: doc.allowed ?? null,
    notes: doc.notes ?? null,
    capacities: {
      users: num(d, 'usersize'),
      fingerprints: num(d, 'fpsize'),
      faces: num(d, 'facesize'),
      palms: num(d, 'palmsize'),
      cards: num(d, 'cardsize'),
      passwords: num(d, 'pwdsize'),
      logs: num(d, 'logsize'),
    },
    usage: {
      users: num(d, 'useduser'),
      fingerprints: num(d, 'usedfp'),
      faces: num(d, 'usedface'),
      palms: num(d, 'usedpalm'),
      cards: num(d, 'usedcard'),
      passwords: num(d, 'usedpwd'),
      logs: num(d, 'usedlog'),
      newLogs: num(d, 'usednewlog'),
      realtimeLogs: num(d, 'usedrtlog'),
    },
  };
}

export function toDeviceDetailView(doc: DeviceRecord, defaultTimeZone: string, leaseCutoff: Date): DeviceDetailView {
  return {
    ...toDeviceView(doc, defaultTimeZone, leaseCutoff),
    cpusn: doc.cpusn ?? null,
    devinfo: doc.devinfo ?? {},
    remoteAddress: doc.remoteAddress ?? null,
    urlPath: doc.urlPath ?? null,
    instanceId: doc.instanceId ?? null,
    disconnectedAt: doc.disconnectedAt ?? null,
    disconnectReason: doc.disconnectReason ?? null,
    lastDeviceLogAt: doc.lastDeviceLogAt ?? null,
    createdAt: doc.createdAt ?? null,
    clock: doc.clock ?? null,
    catchUp: doc.catchUp ? { supported: doc.catchUp.supported, lastError: doc.catchUp.lastError ?? null } : null,
  };
}
