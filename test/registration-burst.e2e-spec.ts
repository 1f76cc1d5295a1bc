import { VirtualTerminal, type VirtualTerminalOptions } from '@app/device-simulator';
import { waitFor } from '@app/testing';
import { DevicesRepository, type RegistrationInput } from '../src/devices/devices.repository';
import { OperationsService } from '../src/operations';
import { OperationsRepository } from '../src/operations/operations.repository';
import { createTestApp, TestApp } from './support/test-app';

/**
 * A fleet dialling in at once (as after a restart): the registrations, their writes and the
 * dispatcher's check for open work go to the database in batches, and a known terminal's reg is
 * answered before its write. Nothing of what a registration does may be lost on the way.
 */
describe('Registrations in a burst (e2e)', () => {
  let t: TestApp;
  const terminals: VirtualTerminal[] = [];
  let snCounter = 0;
  const nextSn = (prefix: string): string => `${prefix}${Date.now().toString(36).toUpperCase()}${++snCounter}`;

  beforeAll(async () => {
    t = await createTestApp({
      env: {
        DEVICE_DEFAULT_TIMEZONE: 'UTC',
        // Wide windows, so that the burst below is surely gathered into batches.
        DEVICE_REG_READ_INTERVAL: '20ms',
        DEVICE_REG_WRITE_INTERVAL: '100ms',
        OP_REGISTERED_CHECK_INTERVAL: '200ms',
      },
    });
  });
  afterEach(async () => {
    jest.restoreAllMocks();
    await Promise.all(terminals.splice(0).map((vt) => vt.close()));
  });
  afterAll(async () => {
    await t?.close();
  });

  function sim(sn: string, extra: Partial<VirtualTerminalOptions> = {}): VirtualTerminal {
    const vt = new VirtualTerminal({ sn, url: `${t.wsUrl}/pub/chat`, users: 1, ...extra });
    vt.on('warning', () => undefined);
    terminals.push(vt);
    return vt;
  }
  const devices = () => t.connection.collection('devices');
  const operationsOf = (sn: string, type: string) => t.connection.collection('operations').find({ sn, type }).toArray();

  it('a known fleet reconnecting at once: every document shows its new socket, pending commands and the catch-up go out', async () => {
    const withWork = Array.from({ length: 8 }, () => nextSn('BWORK'));
    const withLogs = Array.from({ length: 8 }, () => nextSn('BLOGS'));
    const idle = Array.from({ length: 8 }, () => nextSn('BIDLE'));
    const all = [...withWork, ...withLogs, ...idle];
    // First registrations (pinned identities), then every terminal goes away.
    const first = all.map((sn) => sim(sn));
    await Promise.all(first.map((vt) => vt.connect()));
    const firstConnections = new Map(
      (
        await devices()
          .find({ sn: { $in: all } })
          .toArray()
      ).map((d) => [d.sn as string, d.connectionId as string]),
    );
    await Promise.all(first.map((vt) => vt.close()));
    await waitFor(async () => (await devices().countDocuments({ sn: { $in: all }, online: true })) === 0);

    // Work queued while they were away.
    const ops = t.app.get(OperationsService);
    for (const sn of withWork) await ops.enqueue(sn, 'getdevinfo', {});

    const writes = jest.spyOn(t.app.get(DevicesRepository), 'markRegisteredMany');
    const checks = jest.spyOn(t.app.get(OperationsRepository), 'snsWithOpenWork');
    // All of them again at once; some with punches they have not sent (usednewlog > 0).
    const again = all.map((sn) =>
      sim(sn, withLogs.includes(sn) ? { logs: [{ enrollid: 1, time: '2026-05-01 08:00:00' }] } : {}),
    );
    await Promise.all(again.map((vt) => vt.connect()));

    await Promise.all(withWork.map((sn, i) => again[i].waitForCommand('getdevinfo', 15_000)));
    for (const sn of withLogs) {
      await waitFor(async () => (await operationsOf(sn, 'getnewlog')).length === 1, {
        message: `catch-up queued for ${sn}`,
      });
    }
    await waitFor(async () => (await devices().countDocuments({ sn: { $in: all }, online: true })) === all.length);
    const docs = await devices()
      .find({ sn: { $in: all } })
      .toArray();
    for (const d of docs) {
      expect(d.connectionId).not.toBe(firstConnections.get(d.sn as string));
      expect(d).toMatchObject({ online: true, model: expect.any(String), firmware: expect.any(String) });
      expect(d.clock).toMatchObject({ source: 'reg', offsetSeconds: expect.any(Number) });
    }
    expect(await t.connection.collection('operations').countDocuments({ sn: { $in: idle } })).toBe(0);
    // Gathered: fewer writes and open-work reads than terminals.
    expect(writes.mock.calls.flatMap(([inputs]) => inputs.map((i) => i.sn)).sort()).toEqual([...all].sort());
    expect(writes.mock.calls.length).toBeLessThan(all.length / 2);
    expect(checks.mock.calls.length).toBeLessThan(all.length / 2);
  });

  it('a known terminal whose registration write fails after the reply is closed, and registers again', async () => {
    const sn = nextSn('BFAIL');
    const vt = sim(sn, { autoReconnect: true, reconnectDelayMs: 50 });
    await vt.connect();
    const firstConnection = (await devices().findOne({ sn }))!.connectionId as string;
    await vt.close();
    await waitFor(async () => (await devices().findOne({ sn }))?.online === false);

    const repo = t.app.get(DevicesRepository);
    const real = repo.markRegisteredMany.bind(repo);
    let failed = 0;
    jest.spyOn(repo, 'markRegisteredMany').mockImplementation(async (inputs: RegistrationInput[]) => {
      if (failed === 0 && inputs.some((i) => i.sn === sn)) {
        failed++;
        return inputs.map((i) => (i.sn === sn ? new Error('registration not written: disk full') : undefined));
      }
      return real(inputs);
    });
    const back = sim(sn, { autoReconnect: true, reconnectDelayMs: 50 });
    const closed = new Promise<{ code: number }>((resolve) => back.once('disconnected', resolve));
    await back.connect();
    // The reply came first; the failed write then ended the socket (1013: try again later).
    expect((await closed).code).toBe(1013);
    await back.waitUntilRegistered(10_000);
    const doc = await waitFor(async () => {
      const d = await devices().findOne({ sn });
      return d?.online === true && d.connectionId !== firstConnection ? d : undefined;
    });
    expect(failed).toBe(1);
    expect(doc.connectionId).not.toBe(firstConnection);
  });

  it('a first registration that pins an identity is written before its reply', async () => {
    const sn = nextSn('BPIN');
    const vt = sim(sn);
    await vt.connect();
    // No wait: the pin is durable once the terminal holds its reply.
    const doc = await devices().findOne({ sn });
    expect(doc).toMatchObject({ online: true, identity: { cpusn: vt.store.cpusn() } });
  });
});
