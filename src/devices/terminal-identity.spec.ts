import { capDevinfo, checkIdentity, identityOf, normaliseMac, pinnedIdentity } from './terminal-identity';

describe('terminal identity', () => {
  it('normalises mac spellings to one form and ignores empty values', () => {
    expect(normaliseMac('00-01-a9-00-00-01')).toBe('0001A9000001');
    expect(normaliseMac('00:01:A9:00:00:01')).toBe('0001A9000001');
    expect(normaliseMac('  ')).toBeUndefined();
    expect(identityOf(' CPU1 ', { mac: '00-01-A9-00-00-01' })).toEqual({ cpusn: 'CPU1', mac: '0001A9000001' });
    expect(identityOf(undefined, {})).toEqual({});
  });

  it('refuses an identity that differs in, or leaves out, a pinned part', () => {
    const pinned = { cpusn: 'CPU1', mac: 'AA' };
    expect(checkIdentity(pinned, { cpusn: 'CPU1', mac: 'AA' })).toEqual({ ok: true });
    expect(checkIdentity(pinned, { cpusn: 'CPU2', mac: 'AA' })).toEqual({ ok: false, differs: ['cpusn'] });
    expect(checkIdentity(pinned, { mac: 'AA' })).toEqual({ ok: false, differs: ['cpusn'] });
    expect(checkIdentity(pinned, {})).toEqual({ ok: false, differs: ['cpusn', 'mac'] });
  });

  it('accepts anything when nothing is pinned, and strengthens a partial pin', () => {
    expect(checkIdentity({}, {})).toEqual({ ok: true });
    expect(checkIdentity({}, { cpusn: 'C' })).toEqual({ ok: true, pin: { cpusn: 'C' } });
    expect(checkIdentity({ mac: 'AA' }, { mac: 'AA', cpusn: 'C' })).toEqual({
      ok: true,
      pin: { mac: 'AA', cpusn: 'C' },
    });
  });

  it('holds a terminal registered before pinning to what it reported; a reset pins nothing', () => {
    expect(pinnedIdentity({ cpusn: 'OLD', devinfo: { mac: '00-11' } })).toEqual({ cpusn: 'OLD', mac: '0011' });
    expect(pinnedIdentity({ identity: { resetAt: new Date() }, cpusn: 'OLD' })).toEqual({});
    expect(pinnedIdentity({ identity: { cpusn: 'NEW' }, cpusn: 'OLD' })).toEqual({ cpusn: 'NEW' });
  });

  it('cuts a devinfo larger than the cap to its known fields', () => {
    const small = { modelname: 'AiFace', custom: 'x' };
    expect(capDevinfo(small, 1024)).toEqual({ devinfo: small, cut: false });
    const big = { modelname: 'AiFace', usersize: 3000, mac: 'm'.repeat(500), junk: 'y'.repeat(5000), nested: { a: 1 } };
    expect(capDevinfo(big, 1024)).toEqual({
      devinfo: { modelname: 'AiFace', usersize: 3000, mac: 'm'.repeat(128) },
      cut: true,
    });
  });
});
