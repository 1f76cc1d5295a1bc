import { Types } from 'mongoose';
import { Collection } from '@app/embedded-mongo/collection';
import { normaliseIndexSpec } from '@app/embedded-mongo/indexes';
import { parseSort } from '@app/embedded-mongo/values';
import { branchFilters, LIST_SORT, type LogListCriteria } from './fingerprint-log.repository';
import { FingerPrintLogSchema, PunchDeviceType } from './schemas/fingerprint-log.schema';

/**
 * The listing queries against the schema's own indexes, in the embedded database's planner: every
 * filter a listing offers must be one index range in the listing's order, so a page reads only its
 * rows and a total reads no document (MongoDB serves the same shapes from the same indexes).
 */
describe('FingerPrintLogRepository listing shapes', () => {
  const N = 6000;
  const base = Date.UTC(2026, 0, 1);
  const employee = new Types.ObjectId();
  const coll = new Collection('db', 'fingerprintlogs', {}, { record: () => undefined });
  const all: Array<Record<string, unknown>> = [];
  const sort = parseSort(LIST_SORT);

  beforeAll(() => {
    FingerPrintLogSchema.indexes().forEach(([key, options], i) => {
      coll.createIndex(normaliseIndexSpec({ key, name: `idx${i}`, ...options }));
    });
    for (let i = 0; i < N; i++) {
      const app = i % 10 === 0;
      const doc = {
        _id: new Types.ObjectId(),
        enrollid: String(1 + (i % 50)),
        event: i % 3,
        time: new Date(base + Math.floor(i / 2) * 60_000),
        device_sn: app ? 'App' : `SN${i % 7}`,
        device_type: app ? PunchDeviceType.MobileApp : PunchDeviceType.Terminal,
        employee: app && i % 20 === 0 ? employee : null,
        is_send: i % 4 !== 0,
        send_failed: i % 12 === 1,
        forward_pending: i % 4 === 0 || i % 12 === 1,
        next_attempt_at: null,
        createdAt: new Date(base + i),
        dedupe_key: `k${i}`,
        forward_key: null,
      };
      all.push(doc);
      coll.insert(doc);
    }
  });

  const from = new Date(base + 300 * 60_000);
  const to = new Date(base + 1800 * 60_000);
  const terminal = PunchDeviceType.Terminal;
  const cases: Array<[string, LogListCriteria]> = [
    ['device-logs, no filter', { deviceType: terminal }],
    ['device-logs, sn', { deviceType: terminal, sn: 'SN3' }],
    ['device-logs, date range', { deviceType: terminal, from, to, toExclusive: true }],
    ['device-logs, is_send=false', { deviceType: terminal, isSend: false }],
    ['device-logs, send_failed=true', { deviceType: terminal, sendFailed: true }],
    ['device-logs, is_send + send_failed + range', { deviceType: terminal, isSend: true, sendFailed: false, from }],
    ['device-logs, enrollid', { deviceType: terminal, enrollid: '7' }],
    ['device-logs, enrollid + range', { deviceType: terminal, enrollid: '7', to }],
    ['device-logs, sn + range', { deviceType: terminal, sn: 'SN3', from, to }],
    ['mobile-logs', { deviceType: PunchDeviceType.MobileApp }],
    ['mobile-logs, send_failed + range', { deviceType: PunchDeviceType.MobileApp, sendFailed: false, from }],
    ["employee's own logs", { ownedBy: { employeeId: employee.toHexString(), enrollId: '11' } }],
    ["employee's own logs, range", { ownedBy: { employeeId: employee.toHexString(), enrollId: '11' }, from, to }],
  ];

  it.each(cases)('%s: each branch is one index range in listing order, exactly', (_name, criteria) => {
    for (const filter of branchFilters(criteria)) {
      expect(coll.explain(filter as Record<string, unknown>, sort)).toMatchObject({
        stage: 'IXSCAN',
        sorted: true,
        exact: true,
      });
    }
  });

  it.each(cases)('%s: a deep page reads its rows only and the total reads no document', (_name, criteria) => {
    for (const filter of branchFilters(criteria)) {
      const f = filter as Record<string, unknown>;
      const before = coll.examined;
      const total = coll.count(f);
      expect(coll.examined).toBe(before);
      const page = coll.findSorted(f, sort, 10, 20);
      expect(coll.examined - before).toBe(page.length);
      expect(page.length).toBe(Math.min(20, Math.max(0, total - 10)));
    }
  });

  it('totals match a plain reading of the rows', () => {
    const within = (d: Record<string, unknown>) => (d.time as Date) >= from && (d.time as Date) < to;
    const [f] = branchFilters({ deviceType: terminal, sn: 'SN3', isSend: false, from, to, toExclusive: true });
    const want = all.filter((d) => d.device_type === terminal && d.device_sn === 'SN3' && !d.is_send && within(d));
    expect(coll.count(f as Record<string, unknown>)).toBe(want.length);
    expect(want.length).toBeGreaterThan(0);
  });
});
