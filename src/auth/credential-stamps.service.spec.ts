import type { ConfigType } from '@nestjs/config';
import type { authConfig } from '../config/auth.config';
import { CredentialStampsService, passwordStampOf } from './credential-stamps.service';
import { Role } from './role.enum';

describe('CredentialStampsService', () => {
  const cfg = (ms: number) => ({ tokenCheckCacheMs: ms }) as ConfigType<typeof authConfig>;
  let reads: string[];
  let stamps: Map<string, number | null>;
  const source = (sub: string) => {
    reads.push(sub);
    return Promise.resolve(stamps.has(sub) ? stamps.get(sub)! : null);
  };

  beforeEach(() => {
    reads = [];
    stamps = new Map([['a1', 0]]);
  });

  it('has no opinion on a role without a source', () => {
    expect(new CredentialStampsService(cfg(1000)).current(Role.Employee, 'e1')).toBeUndefined();
  });

  it('serves a stamp from cache within the TTL, reads again after it', async () => {
    const service = new CredentialStampsService(cfg(1000));
    service.register(Role.Admin, source);
    await expect(service.current(Role.Admin, 'a1', 10_000)).resolves.toBe(0);
    stamps.set('a1', 5);
    await expect(service.current(Role.Admin, 'a1', 10_999)).resolves.toBe(0);
    await expect(service.current(Role.Admin, 'a1', 11_000)).resolves.toBe(5);
    expect(reads).toEqual(['a1', 'a1']);
  });

  it('forget() makes the next check read the database at once', async () => {
    const service = new CredentialStampsService(cfg(10_000));
    service.register(Role.Admin, source);
    await service.current(Role.Admin, 'a1', 0);
    stamps.set('a1', 7);
    service.forget(Role.Admin, 'a1');
    await expect(service.current(Role.Admin, 'a1', 1)).resolves.toBe(7);
  });

  it('caches nothing with a TTL of 0, and never a failed read', async () => {
    const service = new CredentialStampsService(cfg(0));
    service.register(Role.Admin, source);
    await service.current(Role.Admin, 'a1', 0);
    await service.current(Role.Admin, 'a1', 0);
    expect(reads).toHaveLength(2);

    const cached = new CredentialStampsService(cfg(10_000));
    let fail = true;
    cached.register(Role.Admin, (sub) => (fail ? Promise.reject(new Error('db down')) : source(sub)));
    await expect(cached.current(Role.Admin, 'a1', 0)).rejects.toThrow('db down');
    fail = false;
    await expect(cached.current(Role.Admin, 'a1', 1)).resolves.toBe(0);
  });

  it('turns passwordChangedAt into the stamp tokens carry', () => {
    expect(passwordStampOf(null)).toBe(0);
    expect(passwordStampOf(undefined)).toBe(0);
    expect(passwordStampOf(new Date(1234))).toBe(1234);
  });
});
