import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mongoose from 'mongoose';
import { VirtualTerminal } from '@app/device-simulator';
import { uniqueTestDbUri, waitFor } from '@app/testing';
import { DeviceConnectionRegistry, DevicesService, TerminalDisconnectedEvent } from '../src/devices';
import { createTestApp, TestApp } from './support/test-app';
import { RawTerminal } from './gateway-raw-terminal';

describe('Terminal gateway liveness (e2e)', () => {
  describe('with short ping and liveness timeouts', () => {
    let t: TestApp;
    let registry: DeviceConnectionRegistry;
    const disconnected: TerminalDisconnectedEvent[] = [];
    const raws: RawTerminal[] = [];

    beforeAll(async () => {
      t = await createTestApp({
        env: {
          WS_PING_INTERVAL: '100ms',
          WS_LIVENESS_TIMEOUT: '400ms',
          WS_REG_TIMEOUT: '400ms',
          DEVICE_LAST_SEEN_WRITE_INTERVAL: '100ms',
          DEVICE_ONLINE_LEASE: '10s',
        },
      });
      registry = t.app.get(DeviceConnectionRegistry);
      registry.on('disconnected', (e) => disconnected.push(e));
    });
    afterAll(async () => {
      for (const r of raws) r.terminate();
      await t?.close();
    });

    const deviceDoc = (sn: string) => t.connection.collection('devices').findOne({ sn });

    it('closes a terminal that stops answering pings, marks it offline and reports it', async () => {
      const silent = await RawTerminal.open(t.wsUrl, { autoPong: false });
      const alive = await RawTerminal.open(t.wsUrl);
      raws.push(silent, alive);
      await silent.reg('LIVE-SILENT');
      await alive.reg('LIVE-ALIVE');
      const registeredAt = (await deviceDoc('LIVE-ALIVE'))!.lastSeenAt.getTime();

      const event = await waitFor(() => disconnected.find((e) => e.sn === 'LIVE-SILENT'), { timeoutMs: 10_000 });
      expect(event.reason).toBe('liveness_timeout');
      await silent.closed;
      await waitFor(async () => (await deviceDoc('LIVE-SILENT'))?.online === false);
      expect((await deviceDoc('LIVE-SILENT'))!.disconnectReason).toBe('liveness_timeout');
      expect(await t.app.get(DevicesService).isOnline('LIVE-SILENT')).toBe(false);

      // The terminal that answers pings outlived the silent one and stays online, its lastSeenAt kept fresh.
      expect(alive.open).toBe(true);
      expect(registry.isConnected('LIVE-ALIVE')).toBe(true);
      await waitFor(async () => (await deviceDoc('LIVE-ALIVE'))!.lastSeenAt.getTime() > registeredAt);
      // The last-seen write keeps the document's shape: typed fields, the schema's updatedAt moved with it.
      const fresh = (await deviceDoc('LIVE-ALIVE'))!;
      expect(fresh.lastSeenAt).toBeInstanceOf(Date);
      expect(fresh.updatedAt.getTime()).toBeGreaterThanOrEqual(fresh.lastSeenAt.getTime());
      expect(fresh.online).toBe(true);
      expect(disconnected.filter((e) => e.sn === 'LIVE-ALIVE')).toEqual([]);
      expect(await t.app.get(DevicesService).isOnline('LIVE-ALIVE')).toBe(true);
    });

    it('closes a socket that never registers', async () => {
      const idle = await RawTerminal.open(t.wsUrl);
      raws.push(idle);
      const closed = await idle.closed;
      expect(closed.code).toBe(1006);
      expect(idle.frames).toEqual([]);
    });
  });

  describe('at boot', () => {
    it('marks offline what this instance held and what other instances stopped refreshing', async () => {
      const { uri } = uniqueTestDbUri('e2e');
      const seed = await mongoose.createConnection(uri).asPromise();
      const now = Date.now();
      await seed.collection('devices').insertMany([
        {
          sn: 'BOOT-MINE',
          online: true,
          instanceId: 'boot-instance',
          connectionId: 'c1',
          lastSeenAt: new Date(now),
          devinfo: {},
        },
        {
          sn: 'BOOT-EXPIRED',
          online: true,
          instanceId: 'other',
          connectionId: 'c2',
          lastSeenAt: new Date(now - 3_600_000),
          devinfo: {},
        },
        {
          sn: 'BOOT-FRESH',
          online: true,
          instanceId: 'other',
          connectionId: 'c3',
          lastSeenAt: new Date(now),
          devinfo: {},
        },
      ]);
      const t = await createTestApp({ env: { MONGODB_URI: uri, INSTANCE_ID: 'boot-instance' } });
      try {
        expect(t.app.get(DeviceConnectionRegistry).instanceId).toBe('boot-instance');
        const docs = await t.connection.collection('devices').find({}).sort({ sn: 1 }).toArray();
        expect(docs.map((d) => [d.sn, d.online])).toEqual([
          ['BOOT-EXPIRED', false],
          ['BOOT-FRESH', true],
          ['BOOT-MINE', false],
        ]);
        const devices = t.app.get(DevicesService);
        expect(await devices.isOnline('BOOT-FRESH')).toBe(true);
        expect(await devices.isOnline('BOOT-MINE')).toBe(false);
        expect(await devices.isOnline('BOOT-EXPIRED')).toBe(false);
      } finally {
        await t.close();
        await seed.close();
      }
    });

    it('keeps the generated instance id in DATA_DIR/instance-id across restarts', async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'timmy-gw-'));
      const first = await createTestApp({ env: { DATA_DIR: dataDir } });
      const id = first.app.get(DeviceConnectionRegistry).instanceId;
      await first.close();
      expect(readFileSync(join(dataDir, 'instance-id'), 'utf8').trim()).toBe(id);
      const second = await createTestApp({ env: { DATA_DIR: dataDir } });
      try {
        expect(second.app.get(DeviceConnectionRegistry).instanceId).toBe(id);
      } finally {
        await second.close();
        rmSync(dataDir, { recursive: true, force: true });
      }
    });
  });

  describe('at shutdown', () => {
    it('closes every terminal socket and marks the terminals offline', async () => {
      const { uri } = uniqueTestDbUri('e2e');
      const t = await createTestApp({ env: { MONGODB_URI: uri } });
      const term = new VirtualTerminal({ sn: 'SHUTDOWN-1', url: `${t.wsUrl}/pub/chat` });
      term.on('warning', () => undefined);
      const other = await RawTerminal.open(t.wsUrl);
      await term.connect();
      await other.reg('SHUTDOWN-2');
      const gone = new Promise((resolve) => term.once('disconnected', resolve));
      await t.app.close();
      await gone;
      await other.closed;
      const check = await mongoose.createConnection(uri).asPromise();
      try {
        const docs = await check.collection('devices').find({}).sort({ sn: 1 }).toArray();
        expect(docs.map((d) => [d.sn, d.online, d.disconnectReason])).toEqual([
          ['SHUTDOWN-1', false, 'shutdown'],
          ['SHUTDOWN-2', false, 'shutdown'],
        ]);
        await check.dropDatabase();
      } finally {
        await check.close();
        await term.close();
      }
    });
  });
});
