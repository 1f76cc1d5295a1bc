import { EventEmitter } from 'node:events';
import mongoose, { type Connection, Types } from 'mongoose';
import { type EmbeddedMongo, start } from '@app/embedded-mongo';
import type { Json, LogRecord } from '@app/device-protocol';
import { waitFor } from '@app/testing';
import type { OperationsConfig } from '../config/operations.config';
import { LogPullExecutor } from './executors/log-pull.executor';
import { OperationExecutors } from './executors/operation-executors';
import { SingleCommandExecutor } from './executors/single-command.executor';
import { UserListExecutor } from './executors/user-list.executor';
import type { OperationClock } from './operation-clock';
import { OperationDependencies } from './operation-dependencies';
import { OperationDispatcher } from './operation-dispatcher';
import { OperationEvents } from './operation-events';
import type {
  CatchUpMemory,
  CredentialInput,
  DeviceUserStore,
  RosterRow,
  TerminalDirectory,
  TerminalLink,
  TerminalLogStore,
} from './operation-ports';
import type { OperationView } from './operation.view';
import { OperationsRepository } from './operations.repository';
import { OperationCatchUpService } from './operation-catch-up.service';
import { OperationQueriesService } from './operation-queries.service';
import { OperationRetentionService } from './operation-retention.service';
import { OperationWaitsService } from './operation-waits.service';
import { OperationsService } from './operations.service';
import { ParentOperationsService } from './parent-operations.service';
import { Operation, OPERATION_MODEL, OperationSchema, OperationStatus } from './schemas/operation.schema';

jest.setTimeout(30_000);

/** Time moves only when a test says so; timers fire in order as it moves. */
class FakeClock implements OperationClock {
  private t = Date.parse('2025-11-08T10:00:00.000Z');
  private timers: { at: number; seq: number; fn: () => void; live: boolean }[] = [];
  private seq = 0;
  jitter = 0.5;

  now(): Date {
    return new Date(this.t);
  }

  setTimer(ms: number, fn: () => void): () => void {
    const timer = { at: this.t + ms, seq: this.seq++, fn, live: true };
    this.timers.push(timer);
    return () => {
      timer.live = false;
    };
  }

  random(): number {
    return this.jitter;
  }

  advance(ms: number): void {
    const target = this.t + ms;
    for (;;) {
      const due = this.timers.filter((x) => x.live && x.at <= target).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!due) break;
      due.live = false;
      this.t = Math.max(this.t, due.at);
      due.fn();
    }
    this.timers = this.timers.filter((x) => x.live);
    this.t = target;
  }
}

/** Stands in for the gateway's registry: records frames, lets the test play the terminal. */
class FakeLink extends EventEmitter implements TerminalLink {
  readonly instanceId = 'inst-test';
  readonly connected = new Set<string>();
  readonly frames: { sn: string; frame: Json }[] = [];

  isConnected(sn: string): boolean {
    return this.connected.has(sn);
  }

  send(sn: string, frame: Json): boolean {
    if (!this.connected.has(sn)) return false;
    this.frames.push({ sn, frame });
    return true;
  }

  connectedSns(): string[] {
    return [...this.connected];
  }

  connect(sn: string, devinfo: Json = {}, firstOnSocket = true): void {
    this.connected.add(sn);
    this.emit('registered', { sn, devinfo, firstOnSocket });
  }

  drop(sn: string): void {
    this.connected.delete(sn);
    this.emit('disconnected', { sn, reason: 'socket closed' });
  }

  reply(sn: string, frame: Json): void {
    this.emit('reply', { sn, ret: String(frame.ret), frame: { sn, ...frame } });
  }

  sentTo(sn: string): Json[] {
    return this.frames.filter((f) => f.sn === sn).map((f) => f.frame);
  }
}

class FakeUsers implements DeviceUserStore {
  credentials: { sn: string; input: CredentialInput }[] = [];
  rosters: { sn: string; rows: RosterRow[] }[] = [];
  removed: { sn: string; enrollid: number; backupnum: number }[] = [];
  async upsertCredential(sn: string, input: CredentialInput) {
    this.credentials.push({ sn, input });
  }
  async upsertUser() {}
  async removeCredential(sn: string, enrollid: number, backupnum: number) {
    this.removed.push({ sn, enrollid, backupnum });
  }
  async replaceRoster(sn: string, rows: RosterRow[]) {
    this.rosters.push({ sn, rows });
  }
}

class FakeLogs implements TerminalLogStore {
  pages: { sn: string; source: string; records: LogRecord[] }[] = [];
  async ingest(records: LogRecord[], ctx: { sn: string; source: string }) {
    this.pages.push({ sn: ctx.sn, source: ctx.source, records });
    return {
      punches: { stored: records.length, duplicates: 0 },
      doorEvents: { stored: 0, duplicates: 0 },
      photosDropped: 0,
      rejected: 0,
    };
  }
}

const directory: TerminalDirectory = {
  isOnline: async () => false,
  context: async (sn) => ({ known: sn.startsWith('SN'), timeZone: 'UTC' }),
};

class FakeCatchUpMemory implements CatchUpMemory {
  readonly states = new Map<string, { supported: boolean; lastError: string | null }>();
  async catchUpState(sn: string) {
    return this.states.get(sn);
  }
  async recordCatchUp(sn: string, supported: boolean, lastError: string | null) {
    this.states.set(sn, { supported, lastError });
  }
}

const CFG: OperationsConfig = {
  replyTimeoutMs: 10_000,
  pageTimeoutMs: 60_000,
  catchUpPageTimeoutMs: 15_000,
  retryBaseMs: 2_000,
  registeredCheckIntervalMs: 0,
  retryMaxMs: 60_000,
  maxAttempts: 3,
  waitTimeoutMs: 60_000,
  retentionDays: 90,
  pollIntervalMs: 1_000,
  leaseTtlMs: 30_000,
  retentionIntervalMs: 3_600_000,
};

describe('OperationDispatcher (fake clock and terminal, embedded database)', () => {
  let server: EmbeddedMongo;
  let conn: Connection;
  let dbIndex = 0;
  let clock: FakeClock;
  let link: FakeLink;
  let users: FakeUsers;
  let logs: FakeLogs;
  let memory: FakeCatchUpMemory;
  let repo: OperationsRepository;
  let dispatcher: OperationDispatcher;
  let service: OperationsService;
  let waits: OperationWaitsService;
  let parents: ParentOperationsService;
  let queries: OperationQueriesService;
  let catchUp: OperationCatchUpService;
  let retention: OperationRetentionService;

  beforeAll(async () => {
    server = await start({ port: 0, quiet: true });
  });

  afterAll(async () => {
    await server?.stop();
  });

  beforeEach(async () => {
    conn = await mongoose.createConnection(`${server.uri}/ops_dispatch_${dbIndex++}`).asPromise();
    const model = conn.model<Operation>(OPERATION_MODEL, OperationSchema);
    await model.init();
    clock = new FakeClock();
    link = new FakeLink();
    users = new FakeUsers();
    logs = new FakeLogs();
    memory = new FakeCatchUpMemory();
    repo = new OperationsRepository(model);
    const events = new OperationEvents();
    const deps = new OperationDependencies(repo, events, clock);
    const executors = new OperationExecutors(
      new SingleCommandExecutor(users, directory),
      new UserListExecutor(users),
      new LogPullExecutor(directory, logs),
    );
    dispatcher = new OperationDispatcher(repo, deps, executors, events, link, CFG, clock);
    service = new OperationsService(repo, deps, executors, events, dispatcher, link, directory, CFG, clock);
    waits = new OperationWaitsService(service, repo, events, link, CFG, clock);
    parents = new ParentOperationsService(repo, deps, CFG, clock);
    queries = new OperationQueriesService(repo, { pageSizes: { default: 20, employeeLogs: 10, max: 100 } });
    catchUp = new OperationCatchUpService(service, repo, events, link, memory);
    retention = new OperationRetentionService(repo, CFG, clock);
    dispatcher.start();
    catchUp.onModuleInit();
  });

  afterEach(async () => {
    catchUp.onModuleDestroy();
    await dispatcher.stop();
    await conn.dropDatabase();
    await conn.close();
  });

  const get = async (id: string): Promise<OperationView> => (await queries.findById(id))!;
  const until = async (id: string, check: (op: OperationView) => boolean, message?: string) =>
    waitFor(
      async () => {
        const op = await get(id);
        return check(op) ? op : undefined;
      },
      { timeoutMs: 5_000, message: message ?? `operation ${id}` },
    );
  const framesTo = (sn: string, count: number) =>
    waitFor(() => (link.sentTo(sn).length >= count ? link.sentTo(sn) : undefined), {
      timeoutMs: 5_000,
      message: `${count} frame(s) to ${sn}`,
    });
  /** Lets queued database work settle, then checks nothing more was sent. */
  const settle = async () => {
    for (let i = 0; i < 5; i++) await repo.hasInFlight('settle');
  };

  it('sends, matches the reply by ret and stores the response (success)', async () => {
    link.connect('SN1');
    const op = await service.enqueue('SN1', 'getdevinfo', {});
    expect((await framesTo('SN1', 1))[0]).toEqual({ cmd: 'getdevinfo' });
    link.reply('SN1', { ret: 'getdevinfo', result: true, volume: 6 });
    const done = await until(op._id, (o) => (o.status as string) === 'success');
    expect(done).toMatchObject({
      attemptCount: 1,
      response: { ret: 'getdevinfo', sn: 'SN1', result: true, volume: 6 },
      payload: {},
    });
    expect(done.completedAt).toEqual(clock.now());
    expect(done.lastError).toBeUndefined();
  });

  it('finishes failed with the terminal reason on result:false', async () => {
    link.connect('SN1');
    const op = await service.enqueue('SN1', 'adduserinfo', { enrollid: 7, name: 'A', backupnum: 50, aliasid: 'X' });
    expect((await framesTo('SN1', 1))[0]).toEqual({
      cmd: 'adduser',
      enrollid: 7,
      backupnum: 50,
      admin: 0,
      name: 'A',
      flag: 10,
    });
    link.reply('SN1', { ret: 'adduser', result: false, reason: 2, enrollid: 7 });
    const done = await until(op._id, (o) => (o.status as string) === 'failed');
    expect(done.lastError).toBe('device_error: reason 2');
    expect(done.response).toMatchObject({ ret: 'adduser', result: false, reason: 2 });
  });

  it('treats a reply without result (gettime) as a success', async () => {
    link.connect('SN1');
    const op = await service.enqueue('SN1', 'gettime', {});
    await framesTo('SN1', 1);
    link.reply('SN1', { ret: 'gettime', time: '2025-11-08 10:00:00' });
    expect((await until(op._id, (o) => (o.status as string) === 'success')).response).toMatchObject({
      time: '2025-11-08 10:00:00',
    });
  });

  it('finishes reboot once sent (no reply exists) and moves on', async () => {
    link.connect('SN1');
    const reboot = await service.enqueue('SN1', 'reboot', {});
    const next = await service.enqueue('SN1', 'getdevinfo', {});
    expect(await framesTo('SN1', 2)).toEqual([{ cmd: 'reboot' }, { cmd: 'getdevinfo' }]);
    expect(await get(reboot._id)).toMatchObject({
      status: 'success',
      attemptCount: 1,
      response: { ret: 'reboot', sent: true },
    });
    expect((await get(next._id)).status).toBe('sent');
  });

  it('keeps one command in flight per terminal, oldest first, while terminals run in parallel', async () => {
    link.connect('SN1');
    link.connect('SN2');
    const a = await service.enqueue('SN1', 'deleteuser', { enrollid: 1, backupnum: 13 });
    const b = await service.enqueue('SN1', 'deleteuser', { enrollid: 2, backupnum: 13 });
    const c = await service.enqueue('SN2', 'getdevinfo', {});
    await framesTo('SN1', 1);
    await framesTo('SN2', 1);
    await settle();
    expect(link.sentTo('SN1')).toEqual([{ cmd: 'deleteuser', enrollid: 1, backupnum: 13 }]);
    expect((await get(b._id)).status).toBe('pending');
    link.reply('SN1', { ret: 'deleteuser', result: true });
    await until(a._id, (o) => (o.status as string) === 'success');
    expect((await framesTo('SN1', 2))[1]).toEqual({ cmd: 'deleteuser', enrollid: 2, backupnum: 13 });
    expect((await get(c._id)).status).toBe('sent');
    expect(users.removed).toEqual([{ sn: 'SN1', enrollid: 1, backupnum: 13 }]);
  });

  it('on a timeout goes back to pending with backoff, resends when due, fails after maxAttempts', async () => {
    link.connect('SN1');
    const op = await service.enqueue('SN1', 'getdevinfo', {});
    await framesTo('SN1', 1);
    clock.advance(9_999);
    await settle();
    expect((await get(op._id)).status).toBe('sent');
    clock.advance(1);
    const first = await until(op._id, (o) => (o.status as string) === 'pending');
    expect(first.attemptCount).toBe(1);
    expect(first.lastError).toBe('device_timeout: no reply to getdevinfo within 10000 ms');
    // 2 s base, jitter 0.5 = no spread
    expect(first.nextAttemptAt!.getTime()).toBe(clock.now().getTime() + 2_000);

    clock.advance(1_999);
    await settle();
    expect(link.sentTo('SN1')).toHaveLength(1);
    clock.advance(1);
    await framesTo('SN1', 2);
    await until(op._id, (o) => (o.status as string) === 'sent' && o.attemptCount === 2);

    clock.advance(10_000);
    const second = await until(op._id, (o) => (o.status as string) === 'pending' && o.attemptCount === 2);
    expect(second.nextAttemptAt!.getTime()).toBe(clock.now().getTime() + 4_000);
    clock.advance(4_000);
    await framesTo('SN1', 3);
    clock.advance(10_000);
    const failed = await until(op._id, (o) => (o.status as string) === 'failed');
    expect(failed.attemptCount).toBe(3);
    expect(failed.lastError).toBe('device_timeout: no reply to getdevinfo within 10000 ms (after 3 sends)');
  });

  it('ignores a late reply after a timeout, then finishes on the reply to the resend', async () => {
    link.connect('SN1');
    const op = await service.enqueue('SN1', 'getdevinfo', {});
    await framesTo('SN1', 1);
    clock.advance(10_000);
    await until(op._id, (o) => (o.status as string) === 'pending');
    link.reply('SN1', { ret: 'getdevinfo', result: true, volume: 1 });
    await settle();
    const still = await get(op._id);
    expect(still.status).toBe('pending');
    expect(still.response).toBeUndefined();
    clock.advance(2_000);
    await framesTo('SN1', 2);
    link.reply('SN1', { ret: 'getdevinfo', result: true, volume: 2 });
    expect((await until(op._id, (o) => (o.status as string) === 'success')).response).toMatchObject({ volume: 2 });
  });

  it('ignores a reply to another command, or for another enrollid', async () => {
    link.connect('SN1');
    const op = await service.enqueue('SN1', 'setuserinfo', { enrollid: 5, backupnum: 11, record: 1234, name: 'E' });
    await framesTo('SN1', 1);
    link.reply('SN1', { ret: 'getdevinfo', result: true });
    link.reply('SN1', { ret: 'setuserinfo', result: true, enrollid: 6 });
    await settle();
    expect((await get(op._id)).status).toBe('sent');
    link.reply('SN1', { ret: 'setuserinfo', result: true, enrollid: 5 });
    await until(op._id, (o) => (o.status as string) === 'success');
    expect(users.credentials).toEqual([{ sn: 'SN1', input: { enrollid: 5, backupnum: 11, record: 1234, name: 'E' } }]);
  });

  it('on a disconnect mid-command goes back to pending at once and is resent after re-registration', async () => {
    link.connect('SN1');
    const op = await service.enqueue('SN1', 'getdevinfo', {});
    await framesTo('SN1', 1);
    link.drop('SN1');
    const back = await until(op._id, (o) => (o.status as string) === 'pending');
    expect(back.attemptCount).toBe(1);
    expect(back.lastError).toBe('terminal_disconnected: socket closed');
    expect(back.nextAttemptAt!.getTime()).toBe(clock.now().getTime());
    await dispatcher.poll();
    expect(link.frames).toHaveLength(1);
    link.connect('SN1');
    await framesTo('SN1', 2);
    link.reply('SN1', { ret: 'getdevinfo', result: true });
    expect((await until(op._id, (o) => (o.status as string) === 'success')).attemptCount).toBe(2);
  });

  it('treats a new socket of the same terminal as the end of the command in flight', async () => {
    link.connect('SN1');
    const op = await service.enqueue('SN1', 'getdevinfo', {});
    await framesTo('SN1', 1);
    link.connect('SN1');
    await framesTo('SN1', 2);
    await until(op._id, (o) => (o.status as string) === 'sent' && o.attemptCount === 2);
  });

  it('waits for a command another instance left in flight, checking for one once per socket', async () => {
    // Another instance sent a command to SN1 before the terminal moved here.
    const theirs = await service.enqueue('SN1', 'getdevinfo', {});
    const claim = await repo.claimNext('SN1', 'inst-other', clock.now(), CFG.leaseTtlMs);
    expect(claim).toMatchObject({ kind: 'claimed' });
    const spy = jest.spyOn(repo, 'claimNext');
    const checks = () => spy.mock.calls.filter(([sn, , , , opts]) => sn === 'SN1' && opts?.unlessInFlight).length;
    link.connect('SN1');
    const mine = await service.enqueue('SN1', 'gettime', {});
    await settle();
    expect(link.frames).toHaveLength(0);

    // Their command ends: the terminal's queue moves on, and stays checked while the socket lasts.
    const fence = { id: new Types.ObjectId(theirs._id), owner: 'inst-other', attemptCount: 1 };
    await repo.finish(fence, { status: OperationStatus.Success, now: clock.now(), response: {} });
    await dispatcher.poll();
    expect((await framesTo('SN1', 1))[0]).toEqual({ cmd: 'gettime' });
    link.reply('SN1', { ret: 'gettime', result: true, time: '2025-11-08 10:00:00' });
    await until(mine._id, (o) => (o.status as string) === 'success');
    const checksOnThisSocket = checks();
    const next = await service.enqueue('SN1', 'getdevinfo', {});
    await framesTo('SN1', 2);
    link.reply('SN1', { ret: 'getdevinfo', result: true });
    await until(next._id, (o) => (o.status as string) === 'success');
    expect(checks()).toBe(checksOnThisSocket);

    // A new socket is checked again.
    link.connect('SN1');
    await service.enqueue('SN1', 'getdevinfo', {});
    await framesTo('SN1', 3);
    expect(checks()).toBe(checksOnThisSocket + 1);
  });

  it('sends a retried operation before the ones queued behind it', async () => {
    link.connect('SN1');
    const first = await service.enqueue('SN1', 'getdevinfo', {});
    const second = await service.enqueue('SN1', 'gettime', {});
    await framesTo('SN1', 1);
    clock.advance(10_000);
    await until(first._id, (o) => (o.status as string) === 'pending');
    await dispatcher.poll();
    await settle();
    expect(link.frames).toHaveLength(1);
    expect((await get(second._id)).status).toBe('pending');
    clock.advance(2_000);
    expect((await framesTo('SN1', 2))[1]).toEqual({ cmd: 'getdevinfo' });
  });

  it('sends an operation created while the terminal was offline when it connects', async () => {
    const op = await service.enqueue('SN1', 'getdevinfo', {});
    await settle();
    expect(link.frames).toHaveLength(0);
    expect((await get(op._id)).status).toBe('pending');
    link.connect('SN1');
    await framesTo('SN1', 1);
  });

  it('never sends a canceled operation', async () => {
    link.connect('SN1');
    const a = await service.enqueue('SN1', 'getdevinfo', {});
    const b = await service.enqueue('SN1', 'gettime', {});
    const c = await service.enqueue('SN1', 'getdevcap', {});
    await framesTo('SN1', 1);
    expect((await service.cancel(b._id)).status).toBe('canceled');
    await expect(service.cancel(a._id)).rejects.toMatchObject({ status: 409 });
    link.reply('SN1', { ret: 'getdevinfo', result: true });
    expect((await framesTo('SN1', 2)).map((f) => f.cmd)).toEqual(['getdevinfo', 'getdevcap']);
    expect((await get(c._id)).status).toBe('sent');
  });

  it('sends a dependent operation only after its dependencies succeeded', async () => {
    link.connect('SN1');
    const push = await service.enqueue('SN2', 'setuserinfo', { enrollid: 3, backupnum: 0, record: 'abc' });
    const del = await service.enqueue('SN1', 'deleteuser', { enrollid: 3, backupnum: 13 }, { dependsOn: [push._id] });
    const other = await service.enqueue('SN1', 'getdevinfo', {});
    // the later, independent operation goes first
    expect((await framesTo('SN1', 1))[0]).toEqual({ cmd: 'getdevinfo' });
    link.reply('SN1', { ret: 'getdevinfo', result: true });
    await until(other._id, (o) => (o.status as string) === 'success');
    await settle();
    expect(link.sentTo('SN1')).toHaveLength(1);
    link.connect('SN2');
    await framesTo('SN2', 1);
    link.reply('SN2', { ret: 'setuserinfo', result: true, enrollid: 3 });
    await until(push._id, (o) => (o.status as string) === 'success');
    expect((await framesTo('SN1', 2))[1]).toEqual({ cmd: 'deleteuser', enrollid: 3, backupnum: 13 });
    expect((await get(del._id)).status).toBe('sent');
  });

  it('releases a dependent operation on the poll when its dependency finished elsewhere', async () => {
    const push = await service.enqueue('SN2', 'setuserinfo', { enrollid: 3, backupnum: 0, record: 'abc' });
    const del = await service.enqueue('SN1', 'deleteuser', { enrollid: 3, backupnum: 13 }, { dependsOn: [push._id] });
    // Another instance sends and finishes the dependency, then dies before settling dependents.
    const claim = await repo.claimNext('SN2', 'other-instance', clock.now(), 30_000);
    expect(claim.kind).toBe('claimed');
    await repo.finish(
      { id: (await repo.findById(push._id))!._id, owner: 'other-instance', attemptCount: 1 },
      { status: OperationStatus.Success, now: clock.now() },
    );
    link.connect('SN1');
    await settle();
    expect(link.frames).toHaveLength(0);
    await dispatcher.poll();
    expect((await framesTo('SN1', 1))[0]).toEqual({ cmd: 'deleteuser', enrollid: 3, backupnum: 13 });
    expect((await get(del._id)).status).toBe('sent');
  });

  it('cancels a dependent operation when a dependency fails or is canceled', async () => {
    const push = await service.enqueue('SN2', 'setuserinfo', { enrollid: 3, backupnum: 0, record: 'abc' });
    const del = await service.enqueue('SN1', 'deleteuser', { enrollid: 3, backupnum: 13 }, { dependsOn: [push._id] });
    const after = await service.enqueue('SN1', 'cleanlog', {}, { dependsOn: [del._id] });
    await service.cancel(push._id);
    expect(await get(del._id)).toMatchObject({ status: 'canceled', lastError: 'dependency_failed' });
    expect(await get(after._id)).toMatchObject({ status: 'canceled', lastError: 'dependency_failed' });
    await expect(service.retry(del._id)).rejects.toMatchObject({ status: 409 });
    link.connect('SN1');
    await settle();
    expect(link.frames).toHaveLength(0);
  });

  it('fails an invalid payload at once without sending it', async () => {
    link.connect('SN1');
    const op = await service.enqueue('SN1', 'setuserinfo', { enrollid: 3, backupnum: 0 });
    expect(op.status).toBe('failed');
    expect(op.lastError).toBe('invalid_payload: setuserinfo: record is required');
    expect(op.attemptCount).toBe(0);
    await settle();
    expect(link.frames).toHaveLength(0);
  });

  it('retries a failed operation with a fresh budget, counting every send', async () => {
    link.connect('SN1');
    const op = await service.enqueue('SN1', 'getdevinfo', {}, { maxAttempts: 1 });
    await framesTo('SN1', 1);
    link.reply('SN1', { ret: 'getdevinfo', result: false, reason: 1 });
    await until(op._id, (o) => (o.status as string) === 'failed');
    const again = await service.retry(op._id);
    expect(again).toMatchObject({ status: 'pending', attemptCount: 1, maxAttempts: 1 + CFG.maxAttempts });
    await framesTo('SN1', 2);
    link.reply('SN1', { ret: 'getdevinfo', result: true });
    expect((await until(op._id, (o) => (o.status as string) === 'success')).attemptCount).toBe(2);
    await expect(service.retry(op._id)).rejects.toMatchObject({ status: 409 });
  });

  it('takes back an operation whose instance died (lease expired) and sends it', async () => {
    const op = await service.enqueue('SN1', 'getdevinfo', {});
    await repo.claimNext('SN1', 'dead-instance', clock.now(), 30_000);
    link.connect('SN1');
    await settle();
    expect(link.frames).toHaveLength(0);
    clock.advance(29_000);
    await dispatcher.poll();
    expect(link.frames).toHaveLength(0);
    clock.advance(1_001);
    await dispatcher.poll();
    await framesTo('SN1', 1);
    const resent = await until(op._id, (o) => (o.status as string) === 'sent');
    expect(resent.attemptCount).toBe(2);
    expect(resent.lastError).toMatch(/^lease_expired: instance dead-instance/);
  });

  it('renews the lease of a long exchange while this instance lives', async () => {
    link.connect('SN1');
    const op = await service.enqueue('SN1', 'getuserlist', {});
    await framesTo('SN1', 1);
    const leaseUntil = async () => (await repo.findById(op._id))!.leaseUntil!.getTime();
    const claimedUntil = await leaseUntil();
    for (let i = 1; i <= 4; i++) {
      clock.advance(10_000);
      await waitFor(async () => (await leaseUntil()) === clock.now().getTime() + CFG.leaseTtlMs, {
        timeoutMs: 5_000,
        message: `renewal ${i}`,
      });
    }
    expect(clock.now().getTime()).toBeGreaterThan(claimedUntil);
    await dispatcher.poll();
    expect((await get(op._id)).status).toBe('sent');
    expect(link.frames).toHaveLength(1);
  });

  it('queues again at boot what this instance had in flight when it stopped', async () => {
    const op = await service.enqueue('SN1', 'getdevinfo', {});
    await repo.claimNext('SN1', link.instanceId, clock.now(), 30_000);
    await dispatcher.recoverOwnLeases();
    expect(await get(op._id)).toMatchObject({ status: 'pending', attemptCount: 1 });
  });

  it('reads every page of the user list, then each credential, and replaces the roster', async () => {
    link.connect('SN1');
    // The former payload key: operations stored before the rename to `templates` must still run.
    const op = await service.enqueue('SN1', 'getuserlist', { includeInfo: true });
    const page1 = Array.from({ length: 40 }, (_, i) => ({ enrollid: i + 1, backupnum: 0, admin: 0 }));
    expect((await framesTo('SN1', 1))[0]).toEqual({ cmd: 'getuserlist', stn: true });
    link.reply('SN1', { ret: 'getuserlist', result: true, count: 40, from: 0, to: 39, record: page1 });
    expect((await framesTo('SN1', 2))[1]).toEqual({ cmd: 'getuserlist', stn: false });
    link.reply('SN1', {
      ret: 'getuserlist',
      result: true,
      count: 1,
      from: 40,
      to: 40,
      record: [{ enrollid: 41, backupnum: 50, admin: 1 }],
    });
    for (let i = 0; i < 41; i++) {
      const frame = (await framesTo('SN1', 3 + i))[2 + i];
      expect(frame.cmd).toBe('getuserinfo');
      if (frame.enrollid === 2) {
        link.reply('SN1', { ret: 'getuserinfo', result: false, reason: 5, enrollid: 2 });
        continue;
      }
      link.reply('SN1', {
        ret: 'getuserinfo',
        result: true,
        enrollid: frame.enrollid,
        backupnum: frame.backupnum,
        name: `U${String(frame.enrollid)}`,
        admin: 0,
        record: 'tmpl',
      });
    }
    const done = await until(op._id, (o) => (o.status as string) === 'success');
    expect(done.response).toMatchObject({ ret: 'getuserlist', result: true, count: 41, pages: 2, infoFetched: 40 });
    expect(done.response!.infoFailed).toEqual([{ enrollid: 2, backupnum: 0, error: 'device_error: reason 5' }]);
    expect((done.response!.rows as unknown[])[40]).toEqual({ enrollid: 41, backupnum: 50, admin: 0, name: 'U41' });
    expect(users.credentials).toHaveLength(40);
    expect(users.rosters).toHaveLength(1);
    expect(users.rosters[0].rows).toHaveLength(41);
  });

  it('pulls new logs page by page, and retries from the first page when the first is not answered', async () => {
    link.connect('SN1');
    const op = await service.enqueue('SN1', 'getnewlog', {});
    const rec = (i: number) => ({
      enrollid: 1,
      time: `2025-11-08 08:00:${String(i).padStart(2, '0')}`,
      mode: 1,
      inout: 0,
      event: 0,
    });
    await framesTo('SN1', 1);
    clock.advance(60_000);
    await until(op._id, (o) => (o.status as string) === 'pending' && o.attemptCount === 1);
    clock.advance(2_000);
    expect((await framesTo('SN1', 2))[1]).toEqual({ cmd: 'getnewlog', stn: true });
    link.reply('SN1', { ret: 'getnewlog', result: true, count: 3, from: 0, to: 1, record: [rec(0), rec(1)] });
    expect((await framesTo('SN1', 3))[2]).toEqual({ cmd: 'getnewlog', stn: false });
    link.reply('SN1', { ret: 'getnewlog', result: true, count: 3, from: 2, to: 2, record: [rec(2)] });
    // The reported total has arrived: asked once more, in case count was not the total.
    expect((await framesTo('SN1', 4))[3]).toEqual({ cmd: 'getnewlog', stn: false });
    link.reply('SN1', { ret: 'getnewlog', result: true, count: 0, from: 0, to: 0, record: [] });
    const done = await until(op._id, (o) => (o.status as string) === 'success');
    expect(done.response).toMatchObject({
      ret: 'getnewlog',
      count: 3,
      received: 3,
      records: 3,
      pages: 3,
      stored: 3,
      ended: 'empty_page',
    });
    expect(logs.pages.map((p) => p.records.length)).toEqual([2, 1]);
  });

  const logRec = (i: number) => ({
    enrollid: 1,
    time: `2025-11-08 08:${String(Math.floor(i / 60)).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}`,
    mode: 1,
    inout: 0,
    event: 0,
  });
  const logPage = (count: number, from: number, n: number) => ({
    ret: 'getnewlog',
    result: true,
    count,
    from,
    to: from + n - 1,
    record: Array.from({ length: n }, (_, i) => logRec(from + i)),
  });

  it('reads past a count that is the page size, to the empty page', async () => {
    link.connect('SN1');
    const op = await service.enqueue('SN1', 'getnewlog', {});
    for (let page = 0; page < 3; page++) {
      await framesTo('SN1', page + 1);
      link.reply('SN1', logPage(10, page * 10, 10));
    }
    await framesTo('SN1', 4);
    link.reply('SN1', logPage(3, 30, 3));
    await framesTo('SN1', 5);
    link.reply('SN1', { ret: 'getnewlog', result: true, count: 0, record: [] });
    const done = await until(op._id, (o) => (o.status as string) === 'success');
    expect(done.response).toMatchObject({ received: 33, pages: 5, stored: 33, ended: 'empty_page' });
  });

  it('ends on a page that only repeats what arrived, storing it once', async () => {
    link.connect('SN1');
    const op = await service.enqueue('SN1', 'getnewlog', {});
    await framesTo('SN1', 1);
    link.reply('SN1', logPage(2, 0, 2));
    await framesTo('SN1', 2);
    link.reply('SN1', logPage(2, 0, 2));
    const done = await until(op._id, (o) => (o.status as string) === 'success');
    expect(done.response).toMatchObject({ received: 2, pages: 2, ended: 'repeated_page' });
    expect(logs.pages.map((p) => p.records.length)).toEqual([2]);
  });

  it('fails a read cut short by a timeout after data, with what arrived stored and counted', async () => {
    link.connect('SN1');
    const op = await service.enqueue('SN1', 'getnewlog', {});
    await framesTo('SN1', 1);
    link.reply('SN1', logPage(120, 0, 50));
    await framesTo('SN1', 2);
    clock.advance(60_000);
    const done = await until(op._id, (o) => (o.status as string) === 'failed');
    expect(done.lastError).toBe(
      'device_timeout: page 2 not answered within 60000 ms; 50 records in 1 pages received and stored of 120 reported',
    );
    expect(done.response).toMatchObject({ received: 50, pages: 1, stored: 50, ended: 'timeout' });
    expect(logs.pages.map((p) => p.records.length)).toEqual([50]);
  });

  it('ends cleanly when the extra page after the reported total is not answered', async () => {
    link.connect('SN1');
    const op = await service.enqueue('SN1', 'getnewlog', {});
    await framesTo('SN1', 1);
    link.reply('SN1', logPage(2, 0, 2));
    await framesTo('SN1', 2);
    clock.advance(60_000);
    const done = await until(op._id, (o) => (o.status as string) === 'success');
    expect(done.response).toMatchObject({ received: 2, pages: 1, ended: 'no_answer_after_total' });
  });

  it('sends operations asked through the API before background ones, one at a time, FIFO within each', async () => {
    link.connect('SN1');
    const first = await service.enqueue('SN1', 'getdevinfo', {});
    await framesTo('SN1', 1);
    const housekeeping = await service.enqueue('SN1', 'gettime', {}, { background: true });
    const second = await service.enqueue('SN1', 'getdevcap', {});
    const third = await service.enqueue('SN1', 'getdevinfo', {});
    expect(housekeeping.background).toBe(true);
    link.reply('SN1', { ret: 'getdevinfo', result: true });
    expect((await framesTo('SN1', 2))[1]).toEqual({ cmd: 'getdevcap' });
    link.reply('SN1', { ret: 'getdevcap', result: true });
    expect((await framesTo('SN1', 3))[2]).toEqual({ cmd: 'getdevinfo' });
    link.reply('SN1', { ret: 'getdevinfo', result: true });
    expect((await framesTo('SN1', 4))[3]).toEqual({ cmd: 'gettime' });
    link.reply('SN1', { ret: 'gettime', time: '2025-11-08 10:00:00' });
    for (const op of [first, second, third, housekeeping])
      await until(op._id, (o) => (o.status as string) === 'success');
  });

  it('asks a terminal that registers with unsent logs for them, once', async () => {
    link.connect('SN1', { usednewlog: 4 });
    await framesTo('SN1', 1);
    link.connect('SN1', { usednewlog: 4 }, false);
    link.connect('SN1', { usednewlog: 4 });
    await settle();
    const { items } = await queries.list({ filter: { type: 'getnewlog' } });
    expect(items).toHaveLength(1);
    expect(items[0].requestedBy).toBe('system:catch-up');
  });

  it('runs the catch-up after admin commands, 15 s a page, twice at most, then stops asking that terminal', async () => {
    link.connect('SN1', { usednewlog: 4 });
    expect((await framesTo('SN1', 1))[0]).toEqual({ cmd: 'getnewlog', stn: true });
    const [catchUp] = (await queries.list({ filter: { type: 'getnewlog' } })).items;
    expect(catchUp).toMatchObject({ requestedBy: 'system:catch-up', background: true, maxAttempts: 2 });
    // The terminal ignores it: the page timeout is OP_CATCHUP_PAGE_TIMEOUT, not OP_PAGE_TIMEOUT.
    clock.advance(15_000);
    await until(catchUp._id, (o) => (o.status as string) === 'pending' && o.attemptCount === 1);
    const admin = await service.enqueue('SN1', 'getdevinfo', {});
    expect((await framesTo('SN1', 2))[1]).toEqual({ cmd: 'getdevinfo' });
    link.reply('SN1', { ret: 'getdevinfo', result: true });
    await until(admin._id, (o) => (o.status as string) === 'success');
    clock.advance(60_000);
    expect((await framesTo('SN1', 3))[2]).toEqual({ cmd: 'getnewlog', stn: true });
    clock.advance(15_000);
    const failed = await until(catchUp._id, (o) => (o.status as string) === 'failed');
    expect(failed.lastError).toMatch(/^device_timeout: .*\(after 2 sends\)$/);
    await waitFor(() => memory.states.get('SN1'), { timeoutMs: 5_000, message: 'catch-up outcome' });
    expect(memory.states.get('SN1')).toEqual({ supported: false, lastError: failed.lastError });
    // Reconnecting with unsent logs does not queue it again.
    link.connect('SN1', { usednewlog: 4 });
    await settle();
    expect((await queries.list({ filter: { type: 'getnewlog' } })).items).toHaveLength(1);
  });

  it('gives up a catch-up page in flight when an admin command arrives, sends the command now, then resumes', async () => {
    link.connect('SN1', { usednewlog: 4 });
    expect((await framesTo('SN1', 1))[0]).toEqual({ cmd: 'getnewlog', stn: true });
    const [catchUp] = (await queries.list({ filter: { type: 'getnewlog' } })).items;
    const admin = await service.enqueue('SN1', 'getdevinfo', {});
    // No clock advance: the admin's command does not wait for the catch-up's page timeout.
    expect((await framesTo('SN1', 2))[1]).toEqual({ cmd: 'getdevinfo' });
    link.reply('SN1', { ret: 'getdevinfo', result: true, volume: 3 });
    expect((await until(admin._id, (o) => (o.status as string) === 'success')).response).toMatchObject({ volume: 3 });
    expect((await framesTo('SN1', 3))[2]).toEqual({ cmd: 'getnewlog', stn: true });
    const resumed = await get(catchUp._id);
    expect(resumed).toMatchObject({ status: 'sent', attemptCount: 1 });
    // The terminal's late answer to the abandoned getnewlog does not pass for the answer to the resend.
    link.reply('SN1', logPage(1, 0, 1));
    link.reply('SN1', { ret: 'getnewlog', result: true, count: 0, record: [] });
    const done = await until(catchUp._id, (o) => (o.status as string) === 'success');
    expect(done.response).toMatchObject({ received: 0, pages: 1 });
    expect(logs.pages).toEqual([]);
  });

  it('remembers that a terminal answers getnewlog once one succeeds', async () => {
    memory.states.set('SN1', { supported: false, lastError: 'device_timeout' });
    link.connect('SN1');
    const op = await service.enqueue('SN1', 'getnewlog', {});
    await framesTo('SN1', 1);
    link.reply('SN1', { ret: 'getnewlog', result: true, count: 0, record: [] });
    await until(op._id, (o) => (o.status as string) === 'success');
    await waitFor(() => (memory.states.get('SN1')?.supported ? true : undefined), { timeoutMs: 5_000 });
  });

  it('removes finished operations past the retention age, never unfinished ones', async () => {
    const old = await service.enqueue('SN5', 'getdevinfo', {});
    await service.cancel(old._id);
    const waiting = await service.enqueue('SN5', 'gettime', {});
    clock.advance(91 * 86_400_000);
    const recent = await service.enqueue('SN5', 'getdevcap', {});
    await service.cancel(recent._id);
    expect(await retention.purgeExpired()).toBe(1);
    expect(await queries.findById(old._id)).toBeNull();
    expect((await get(waiting._id)).status).toBe('pending');
    expect((await get(recent._id)).status).toBe('canceled');
  });

  it('keeps a parent operation out of dispatch until its owner finishes it; canceling it cancels its steps', async () => {
    link.connect('SN1');
    const parent = await parents.createParent('SN1', 'transfer', { toSn: 'SN2' }, { requestedBy: 'admin-1' });
    const step = await service.enqueue(
      'SN2',
      'setuserinfo',
      { enrollid: 1, backupnum: 0, record: 'x' },
      { parentId: parent._id },
    );
    await settle();
    expect(link.frames).toHaveLength(0);
    expect(await parents.findChildStatuses(parent._id)).toEqual([{ _id: step._id, status: 'pending' }]);
    expect((await parents.findOpenParents('transfer')).map((p) => p._id)).toEqual([parent._id]);
    expect(await parents.updateParent(parent._id, { response: { done: 0 } })).toMatchObject({
      status: 'pending',
      response: { done: 0 },
    });

    await expect(service.retry(parent._id)).rejects.toMatchObject({ status: 409 });
    expect((await service.cancel(parent._id)).status).toBe('canceled');
    expect(await get(step._id)).toMatchObject({ status: 'canceled', lastError: 'parent_canceled' });
    expect(await parents.updateParent(parent._id, { status: 'success' })).toBeNull();

    const other = await parents.createParent('SN1', 'transfer', {});
    const finished = await parents.updateParent(other._id, { status: 'failed', lastError: '1 push failed' });
    expect(finished).toMatchObject({ status: 'failed', lastError: '1 push failed', completedAt: clock.now() });
    expect(await parents.findOpenParents('transfer')).toEqual([]);
  });

  it('stores an awaited operation already sent when its terminal is idle: one write, no claim', async () => {
    link.connect('SN1');
    await settle();
    const inserts = jest.spyOn(repo, 'insert');
    const claims = jest.spyOn(repo, 'claimNext');
    const waiting = waits.enqueueAndWait('SN1', 'getdevinfo', {});
    expect((await framesTo('SN1', 1))[0]).toEqual({ cmd: 'getdevinfo' });
    link.reply('SN1', { ret: 'getdevinfo', result: true });
    expect(await waiting).toMatchObject({ status: 'success', attemptCount: 1, sentAt: clock.now() });
    expect(inserts).not.toHaveBeenCalled();
    expect(claims).not.toHaveBeenCalled();
  });

  it('remembers a socket checked while other terminals registered', async () => {
    link.connect('SN1');
    link.connect('SN2');
    await settle();
    const claims = jest.spyOn(repo, 'claimNext');
    const waiting = waits.enqueueAndWait('SN1', 'getdevinfo', {});
    await framesTo('SN1', 1);
    link.reply('SN1', { ret: 'getdevinfo', result: true });
    expect((await waiting).status).toBe('success');
    expect(claims).not.toHaveBeenCalled();
  });

  it('queues an awaited operation behind one asked earlier that the terminal has not had yet', async () => {
    link.connect('SN1');
    await settle();
    // Stored by another instance; this one has not been woken for it yet.
    const earlier = await repo.insert({
      sn: 'SN1',
      type: 'getdevinfo',
      payload: {},
      status: OperationStatus.Pending,
      maxAttempts: 3,
      nextAttemptAt: clock.now(),
      createdAt: clock.now(),
      dependsOn: [],
      depsPending: false,
    });
    const waiting = waits.enqueueAndWait('SN1', 'gettime', {});
    expect((await framesTo('SN1', 1))[0]).toEqual({ cmd: 'getdevinfo' });
    link.reply('SN1', { ret: 'getdevinfo', result: true });
    expect((await framesTo('SN1', 2))[1]).toEqual({ cmd: 'gettime' });
    link.reply('SN1', { ret: 'gettime', result: true, time: '2025-11-08 10:00:00' });
    expect((await waiting).status).toBe('success');
    expect((await get(earlier._id.toHexString())).status).toBe('success');
  });

  it('queues an awaited operation behind one waiting for its retry backoff', async () => {
    link.connect('SN1');
    const first = await service.enqueue('SN1', 'getdevinfo', {});
    await framesTo('SN1', 1);
    clock.advance(10_000);
    await until(first._id, (o) => (o.status as string) === 'pending');
    const waiting = waits.enqueueAndWait('SN1', 'gettime', {});
    await settle();
    expect(link.frames).toHaveLength(1);
    clock.advance(2_000);
    expect((await framesTo('SN1', 2))[1]).toEqual({ cmd: 'getdevinfo' });
    link.reply('SN1', { ret: 'getdevinfo', result: true });
    expect((await framesTo('SN1', 3))[2]).toEqual({ cmd: 'gettime' });
    link.reply('SN1', { ret: 'gettime', result: true, time: '2025-11-08 10:00:00' });
    expect((await waiting).status).toBe('success');
  });

  it('waits for the outcome, answers 504 with the id after the wait, 409 for an offline terminal', async () => {
    link.connect('SN1');
    const waiting = waits.enqueueAndWait('SN1', 'getdevinfo', {});
    await framesTo('SN1', 1);
    link.reply('SN1', { ret: 'getdevinfo', result: true });
    expect((await waiting).status).toBe('success');

    const slow = waits.enqueueAndWait('SN1', 'gettime', {}, { waitMs: 5_000 });
    await framesTo('SN1', 2);
    clock.advance(5_000);
    const err = await slow.then(
      () => undefined,
      (e: unknown) => e as { getStatus(): number; getResponse(): Json },
    );
    expect(err?.getStatus()).toBe(504);
    const body = err!.getResponse();
    expect(body).toEqual({ success: false, error: 'device_timeout', opId: expect.any(String) });
    expect((await get(body.opId as string)).status).toBe('sent');

    const before = (await queries.list({})).total;
    await expect(waits.enqueueAndWait('SN9', 'gettime', {})).rejects.toMatchObject({
      response: { success: false, error: 'device_offline_or_not_registered' },
      status: 409,
    });
    expect((await queries.list({})).total).toBe(before);
  });
});
