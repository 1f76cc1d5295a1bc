import type { EmployeeRef, EmployeesService } from '../employees';
import type { FingerPrintLogRepository, FrameInsertResult, NewFingerPrintLog } from './fingerprint-log.repository';
import type { ForwardOutboxService } from './forward-outbox.service';
import { FingerprintsService, type StoreTerminalPunchesInput } from './fingerprints.service';
import type { PunchImagesService } from './punch-images.service';

/** The punch store's database as a fake: records each insert, answers what the test says. */
class FakeLogs {
  inserts: NewFingerPrintLog[][][] = [];
  stored = new Map<string, string>();
  /** Per insert call: a frame's answer from its punches, or the error the whole insert throws. */
  answer: (frame: NewFingerPrintLog[]) => FrameInsertResult | Error = (frame) => {
    const duplicateIndexes = new Set<number>();
    frame.forEach((d, i) => {
      if (this.stored.has(d.dedupe_key)) duplicateIndexes.add(i);
      else this.stored.set(d.dedupe_key, d._id.toHexString());
    });
    return { duplicateIndexes };
  };
  failWhole: Error | undefined;

  insertFramesDeduplicated(frames: NewFingerPrintLog[][]): Promise<Array<FrameInsertResult | Error>> {
    this.inserts.push(frames);
    if (this.failWhole) return Promise.reject(this.failWhole);
    return Promise.resolve(frames.map((f) => this.answer(f)));
  }

  idsByDedupeKeys(keys: string[]): Promise<Map<string, string>> {
    return Promise.resolve(new Map(keys.flatMap((k) => (this.stored.has(k) ? [[k, this.stored.get(k)!]] : []))));
  }
}

function setup() {
  const logs = new FakeLogs();
  const wakes: number[] = [];
  const lookups: string[][] = [];
  const employees = {
    findRefsByEnrollIds: (ids: string[]): Promise<EmployeeRef[]> => {
      lookups.push(ids);
      return Promise.resolve(
        ids.includes('7') ? [{ _id: '64b000000000000000000007', enroll_id: '7', owner: 'o-1', isActive: true }] : [],
      );
    },
  };
  const service = new FingerprintsService(
    logs as unknown as FingerPrintLogRepository,
    {} as PunchImagesService,
    { wake: () => wakes.push(1) } as unknown as ForwardOutboxService,
    employees as unknown as EmployeesService,
    { storeConcurrency: 16 } as ConstructorParameters<typeof FingerprintsService>[4],
  );
  return { logs, service, wakes, lookups };
}

function frame(sn: string, ...enrollids: number[]): StoreTerminalPunchesInput {
  return {
    sn,
    timeZone: 'UTC',
    source: 'sendlog',
    records: enrollids.map((enrollid, i) => ({
      enrollid,
      time: `2026-12-01 08:00:0${i}`,
      raw: { enrollid, time: `2026-12-01 08:00:0${i}` },
    })),
  };
}

describe('FingerprintsService.storeTerminalPunches: frames stored together', () => {
  it('writes the punches of frames arriving together in one insert, each frame answered for its own', async () => {
    const { logs, service, wakes } = setup();
    const first = await service.storeTerminalPunches(frame('T-0', 5));
    expect(logs.inserts).toHaveLength(1);

    const results = await Promise.all([
      service.storeTerminalPunches(frame('T-1', 7, 8)),
      service.storeTerminalPunches(frame('T-2', 9)),
      // A resend of T-0's frame: its punch is a duplicate, answered with the stored punch's id.
      service.storeTerminalPunches(frame('T-0', 5)),
    ]);
    expect(logs.inserts).toHaveLength(2);
    expect(logs.inserts[1].map((f) => f.map((d) => `${d.device_sn}:${d.enrollid}`))).toEqual([
      ['T-1:7', 'T-1:8'],
      ['T-2:9'],
      ['T-0:5'],
    ]);
    // The employee is assigned per punch, as before.
    expect(logs.inserts[1][0].map((d) => d.owner)).toEqual(['o-1', null]);
    expect(results.map((r) => [r.stored, r.duplicates])).toEqual([
      [2, 0],
      [1, 0],
      [0, 1],
    ]);
    expect(results[2].ids).toEqual(first.ids);
    expect(wakes.length).toBeGreaterThan(0);
  });

  it('fails only the frame whose punches were not written; the others are acknowledged', async () => {
    const { logs, service } = setup();
    const normal = logs.answer;
    logs.answer = (f) => (f[0].device_sn === 'T-BAD' ? new Error('punch 0 not stored: validation') : normal(f));
    const outcomes = await Promise.allSettled([
      service.storeTerminalPunches(frame('T-1', 1)),
      service.storeTerminalPunches(frame('T-BAD', 2)),
      service.storeTerminalPunches(frame('T-3', 3)),
    ]);
    expect(logs.inserts).toHaveLength(1);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((outcomes[1] as PromiseRejectedResult).reason).toEqual(new Error('punch 0 not stored: validation'));
  });

  it('fails every frame of an insert that failed as a whole (none may be acknowledged)', async () => {
    const { logs, service } = setup();
    logs.failWhole = new Error('journal write failed');
    const outcomes = await Promise.allSettled([
      service.storeTerminalPunches(frame('T-1', 1)),
      service.storeTerminalPunches(frame('T-2', 2)),
    ]);
    expect(logs.inserts).toHaveLength(1);
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected']);
    // The next frames are written again (the batcher is not stuck).
    logs.failWhole = undefined;
    expect((await service.storeTerminalPunches(frame('T-1', 1))).stored).toBe(1);
  });
});
