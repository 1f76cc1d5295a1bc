import { Logger } from '@nestjs/common';
import { DeviceConnectionRegistry, RegistryConnection } from './device-connection.registry';

class FakeConnection implements RegistryConnection {
  ready = false;
  open = true;
  readonly sent: string[] = [];
  sendText(text: string): boolean {
    this.sent.push(text);
    return true;
  }
}

describe('DeviceConnectionRegistry', () => {
  beforeAll(() => Logger.overrideLogger(false));
  afterAll(() => Logger.overrideLogger(['log', 'error', 'warn', 'debug', 'verbose']));

  let registry: DeviceConnectionRegistry;
  let events: Array<[string, unknown]>;

  beforeEach(() => {
    registry = new DeviceConnectionRegistry({ instanceId: 'test-instance' });
    events = [];
    registry.on('registered', (e) => events.push(['registered', e]));
    registry.on('disconnected', (e) => events.push(['disconnected', e]));
  });

  function registerNew(sn: string): FakeConnection {
    const conn = new FakeConnection();
    registry.claim(sn, conn);
    conn.ready = true;
    registry.announceRegistered(sn, conn, { modelname: 'x' }, true);
    return conn;
  }

  it('exposes the instance id', () => {
    expect(registry.instanceId).toBe('test-instance');
  });

  it('counts a terminal as connected only once its reg is answered', () => {
    const conn = new FakeConnection();
    registry.claim('SN1', conn);
    expect(registry.isConnected('SN1')).toBe(false);
    expect(registry.send('SN1', { cmd: 'getuserlist' })).toBe(false);
    expect(conn.sent).toEqual([]);
    conn.ready = true;
    expect(registry.isConnected('SN1')).toBe(true);
    expect(registry.send('SN1', { cmd: 'getuserlist', stn: true })).toBe(true);
    expect(conn.sent).toEqual(['{"cmd":"getuserlist","stn":true}']);
    expect(registry.connectedSns()).toEqual(['SN1']);
  });

  it('refuses to send to an unknown sn or a closed socket', () => {
    expect(registry.send('NOPE', { cmd: 'reboot' })).toBe(false);
    const conn = registerNew('SN1');
    conn.open = false;
    expect(registry.isConnected('SN1')).toBe(false);
    expect(registry.send('SN1', { cmd: 'reboot' })).toBe(false);
    expect(registry.connectedSns()).toEqual([]);
  });

  it('a new socket replaces the old one, and the old socket closing afterwards reports nothing', () => {
    const first = registerNew('SN1');
    const second = new FakeConnection();
    expect(registry.claim('SN1', second)).toBe(first);
    second.ready = true;
    registry.announceRegistered('SN1', second, {}, true);

    expect(registry.release('SN1', first, 'closed')).toBe(false);
    expect(registry.isConnected('SN1')).toBe(true);
    expect(registry.send('SN1', { cmd: 'gettime' })).toBe(true);
    expect(second.sent).toHaveLength(1);
    expect(first.sent).toHaveLength(0);
    expect(events.map(([name]) => name)).toEqual(['registered', 'registered']);
  });

  it('claiming again with the same connection replaces nothing', () => {
    const conn = registerNew('SN1');
    expect(registry.claim('SN1', conn)).toBeUndefined();
  });

  it('the current socket going away reports disconnected once', () => {
    const conn = registerNew('SN1');
    expect(registry.release('SN1', conn, 'liveness_timeout')).toBe(true);
    expect(registry.release('SN1', conn, 'closed')).toBe(false);
    expect(events).toEqual([
      ['registered', { sn: 'SN1', devinfo: { modelname: 'x' }, firstOnSocket: true }],
      ['disconnected', { sn: 'SN1', reason: 'liveness_timeout' }],
    ]);
    expect(registry.isConnected('SN1')).toBe(false);
  });

  it('does not report a disconnect for a socket that never registered', () => {
    const conn = new FakeConnection();
    registry.claim('SN1', conn);
    expect(registry.release('SN1', conn, 'closed')).toBe(true);
    expect(events).toEqual([]);
  });

  it('a replaced socket cannot announce a registration', () => {
    const first = new FakeConnection();
    registry.claim('SN1', first);
    const second = registerNew('SN1');
    registry.announceRegistered('SN1', first, {}, true);
    expect(events).toHaveLength(1);
    expect(registry.isCurrent('SN1', second)).toBe(true);
  });

  it('survives a throwing listener and replies without listeners', () => {
    registry.on('reply', () => {
      throw new Error('listener bug');
    });
    expect(() => registry.deliverReply('SN1', 'getuserlist', { ret: 'getuserlist' })).not.toThrow();
    registry.removeAllListeners('reply');
    expect(() => registry.deliverReply('SN1', 'getuserlist', { ret: 'getuserlist' })).not.toThrow();
  });

  it('a frame that cannot be serialised is not sent', () => {
    const conn = registerNew('SN1');
    const cyclic: Record<string, unknown> = { cmd: 'x' };
    cyclic.self = cyclic;
    expect(registry.send('SN1', cyclic)).toBe(false);
    expect(conn.sent).toEqual([]);
  });
});
