import { credentialKind } from '@app/device-protocol';
import type { DeviceUserView } from './stored-users.service';

/** `GET /api/devices/:sn/stored-users` item: templates are left out; `kind` names each slot. */
export function toStoredUserResponse(u: DeviceUserView) {
  return {
    enrollid: u.enrollid,
    name: u.name ?? null,
    aliasid: u.aliasid ?? null,
    admin: u.admin ?? null,
    onDevice: u.onDevice,
    ...(u.missingSince ? { missingSince: u.missingSince } : {}),
    credentials: u.credentials.map((c) => ({
      backupnum: c.backupnum,
      kind: credentialKind(c.backupnum),
      onDevice: c.onDevice,
      updatedAt: c.updatedAt,
    })),
    updatedAt: u.updatedAt ?? null,
  };
}
