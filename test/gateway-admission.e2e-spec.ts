import WebSocket from 'ws';
import { VirtualTerminal } from '@app/device-simulator';
import { waitFor } from '@app/testing';
import { TerminalGateway } from '../src/devices';
import { createTestApp, TestApp } from './support/test-app';

/** Opens a socket that never registers; resolves once it is open. */
function silentSocket(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

describe('Gateway admission: connections still registering are bounded (e2e)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: { WS_MAX_PENDING_REGISTRATIONS: '2' } });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('closes a connection beyond the limit at once with 1013, counts it, and admits again once one registers', async () => {
    const url = `${t.wsUrl}/pub/chat`;
    const gateway = t.app.get(TerminalGateway);
    const before = gateway.admissionStats;
    const silent = [await silentSocket(url), await silentSocket(url)];
    await waitFor(() => gateway.admissionStats.awaitingRegistration === 2, { message: 'two registering' });

    const refused = new WebSocket(url);
    const code = await new Promise<number>((resolve) => refused.once('close', (c) => resolve(c)));
    expect(code).toBe(1013);
    expect(gateway.admissionStats.shed).toBe(before.shed + 1);

    // One of the silent sockets goes away: a real terminal gets in and registers.
    silent[0].terminate();
    await waitFor(() => gateway.admissionStats.awaitingRegistration === 1, { message: 'one left' });
    const vt = new VirtualTerminal({ sn: 'ADMIT-01', url });
    try {
      await vt.connect();
      expect(vt.registered).toBe(true);
      await waitFor(() => gateway.admissionStats.awaitingRegistration === 1, {
        message: 'registered ones not counted',
      });
    } finally {
      await vt.close();
      silent[1].terminate();
    }
  });
});
