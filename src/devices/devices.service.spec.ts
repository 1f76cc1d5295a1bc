import { DeviceConnectionRegistry } from './device-connection.registry';
import { DevicesRepository, RegistrationInput } from './devices.repository';
import { DevicesService } from './devices.service';

type Entry = { sn: string; connectionId: string; instanceId: string; at: Date };

/** A repository standing in for the database: records the calls, resolves writes when told to. */
class FakeRepository {
  reads: string[] = [];
  /** The serials of each frame-context query. */
  frameReads: string[][] = [];
  calls: string[] = [];
  timeZone: string | undefined = 'Asia/Baghdad';
  private readonly gates: (() => void)[] = [];

  findBySn(sn: string) {
    this.reads.push(sn);
    return Promise.resolve({ _id: sn, sn, timeZone: this.timeZone, name: 'Gate' });
  }

  findFrameContexts(sns: string[]) {
    this.frameReads.push([...sns]);
    this.reads.push(...sns);
    return Promise.resolve(
      new Map(
        sns.filter((sn) => !sn.startsWith('UNKNOWN')).map((sn) => [sn, { timeZone: this.timeZone, name: 'Gate' }]),
      ),
    );
  }

  updateSettings(sn: string, patch: { timeZone?: string | null }) {
    this.timeZone = patch.timeZone ?? undefined;
    return this.findBySn(sn);
  }

  markOffline(ids: string[]) {
    this.calls.push(`offline ${ids.join(',')}`);
    return new Promise<void>((resolve) => this.gates.push(resolve));
  }

  registered: string[][] = [];
  failSn: string | undefined;

  markRegisteredMany(inputs: RegistrationInput[]) {
    this.registered.push(inputs.map((i) => i.sn));
    this.calls.push(`registered ${inputs.map((i) => i.sn).join(',')}`);
    return Promise.resolve(inputs.map((i) => (i.sn === this.failSn ? new Error('write refused') : undefined)));
  }

  touchLastSeen(entries: Entry[]) {
    this.calls.push(`touch ${entries.map((e) => e.sn).join(',')}`);
    return new Promise<void>((resolve) => this.gates.push(resolve));
  }

  release(): void {
    for (const open of this.gates.splice(0)) open();
  }
}

function service(repo: FakeRepository, connected: string[] = [], regWriteIntervalMs = 0): DevicesService {
  const cfg = {
    onlineLeaseMs: 90_000,
    defaultTimeZone: 'UTC',
    allowList: [],
    regWriteIntervalMs,
    frameContextTtlMs: 2000,
  } as unknown as ConstructorParameters<typeof DevicesService>[1];
  const registry = { isConnected: (sn: string) => connected.includes(sn) } as unknown as DeviceConnectionRegistry;
  return new DevicesService(repo as unknown as DevicesRepository, cfg, registry);
}

function registration(sn: string): RegistrationInput {
  return { sn, devinfo: {}, instanceId: 'i', connectionId: `c-${sn}`, at: new Date(), firstOnSocket: true };
}

async function until(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 2000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not reached');
    await new Promise((r) => setImmediate(r));
  }
}

describe('DevicesService.frameContext', () => {
  it('reads a terminal once for frames close together, again once the reuse window has passed', async () => {
    const repo = new FakeRepository();
    const devices = service(repo);
    const t = 1_000_000;
    expect(await devices.frameContext('S1', t)).toMatchObject({ timeZone: 'Asia/Baghdad', name: 'Gate', known: true });
    await devices.frameContext('S1', t + 1999);
    expect(repo.reads).toEqual(['S1']);
    await devices.frameContext('S1', t + 2000);
    expect(repo.reads).toEqual(['S1', 'S1']);
  });

  it('reads the contexts of terminals whose frames arrive together in one query, each its own', async () => {
    const repo = new FakeRepository();
    const devices = service(repo);
    const t = 1_000_000;
    const [a, b, unknown] = await Promise.all([
      devices.frameContext('S1', t),
      devices.frameContext('S2', t),
      devices.frameContext('UNKNOWN-1', t),
    ]);
    expect(repo.frameReads).toEqual([['S1', 'S2', 'UNKNOWN-1']]);
    expect(a).toEqual({ sn: 'S1', known: true, timeZone: 'Asia/Baghdad', name: 'Gate' });
    expect(b).toMatchObject({ sn: 'S2', known: true });
    expect(unknown).toEqual({ sn: 'UNKNOWN-1', known: false, timeZone: 'UTC' });
    await devices.frameContext('S2', t + 10);
    expect(repo.frameReads).toHaveLength(1);
  });

  it('applies a settings change made through this instance to the next frame', async () => {
    const repo = new FakeRepository();
    const devices = service(repo);
    expect((await devices.frameContext('S1')).timeZone).toBe('Asia/Baghdad');
    await devices.update('S1', { timeZone: 'Europe/Paris' });
    expect((await devices.frameContext('S1')).timeZone).toBe('Europe/Paris');
  });
});

describe('DevicesService.recordLiveness', () => {
  it('writes the whole sweep at once, after the pending writes of its terminals', async () => {
    const repo = new FakeRepository();
    const devices = service(repo);
    const offline = devices.recordOffline('S2', ['c2'], 'closed');
    await until(() => repo.calls.length === 1);
    const at = new Date();
    const touched = devices.recordLiveness(
      ['S1', 'S2', 'S3'].map((sn) => ({ sn, connectionId: `c-${sn}`, instanceId: 'i', at })),
    );
    await new Promise((r) => setImmediate(r));
    expect(repo.calls).toEqual(['offline c2']);
    repo.release();
    await until(() => repo.calls.length === 2);
    expect(repo.calls).toEqual(['offline c2', 'touch S1,S2,S3']);
    // A later write of one of them waits for the sweep's write to end.
    const after = devices.recordOffline('S3', ['c3'], 'closed');
    await new Promise((r) => setImmediate(r));
    expect(repo.calls).toHaveLength(2);
    repo.release();
    await Promise.all([offline, touched]);
    await until(() => repo.calls.length === 3);
    repo.release();
    await after;
    expect(repo.calls[2]).toBe('offline c3');
  });
});

describe('DevicesService.recordRegistration', () => {
  it('writes the registrations of a burst together, one write per interval; a lone one at once', async () => {
    const repo = new FakeRepository();
    const devices = service(repo, [], 40);
    await devices.recordRegistration(registration('S0'));
    expect(repo.registered).toEqual([['S0']]);
    const burst = ['S1', 'S2', 'S3'].map((sn) => devices.recordRegistration(registration(sn)));
    await new Promise((r) => setTimeout(r, 10));
    expect(repo.registered).toHaveLength(1);
    await Promise.all(burst);
    expect(repo.registered).toEqual([['S0'], ['S1', 'S2', 'S3']]);
  });

  it('fails only the registration whose write failed', async () => {
    const repo = new FakeRepository();
    repo.failSn = 'S2';
    const devices = service(repo);
    const results = await Promise.allSettled(['S1', 'S2'].map((sn) => devices.recordRegistration(registration(sn))));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected']);
  });

  it('orders an offline mark of the socket after the registration write of its terminal', async () => {
    const repo = new FakeRepository();
    const devices = service(repo, [], 30);
    await devices.recordRegistration(registration('S0'));
    const written = devices.recordRegistration(registration('S1'));
    const offline = devices.recordOffline('S1', ['c-S1'], 'closed');
    await until(() => repo.calls.length === 3);
    expect(repo.calls).toEqual(['registered S0', 'registered S1', 'offline c-S1']);
    repo.release();
    await Promise.all([written, offline]);
  });
});

describe('DevicesService.isOnline', () => {
  it('is true for a terminal registered on a socket of this instance before its document says so', async () => {
    const repo = new FakeRepository();
    repo.findBySn = (sn: string) => Promise.resolve({ _id: sn, sn, online: false } as never);
    expect(await service(repo, ['S1']).isOnline('S1')).toBe(true);
    expect(await service(repo, []).isOnline('S1')).toBe(false);
  });
});
