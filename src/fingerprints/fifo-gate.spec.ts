import { FifoGate } from './fifo-gate';

const deferred = () => {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
};

/** Every slot is free: `limit` runs all start at once, none waits. */
async function expectFree(gate: FifoGate, limit: number): Promise<void> {
  const blocker = deferred();
  let started = 0;
  const runs = Array.from({ length: limit }, () =>
    gate.run(async () => {
      started++;
      await blocker.promise;
    }),
  );
  await new Promise((r) => setImmediate(r));
  expect([started, gate.queued]).toEqual([limit, 0]);
  blocker.resolve();
  await Promise.all(runs);
}

describe('FifoGate', () => {
  it('runs at most `limit` at once and the rest in arrival order', async () => {
    const gate = new FifoGate(2);
    const started: number[] = [];
    const blockers = [0, 1, 2, 3].map(() => deferred());
    const runs = blockers.map((b, i) =>
      gate.run(async () => {
        started.push(i);
        await b.promise;
        return i;
      }),
    );
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual([0, 1]);
    expect(gate.queued).toBe(2);
    blockers[1].resolve();
    await runs[1];
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual([0, 1, 2]);
    expect(gate.queued).toBe(1);
    blockers[0].resolve();
    blockers[2].resolve();
    blockers[3].resolve();
    await expect(Promise.all(runs)).resolves.toEqual([0, 1, 2, 3]);
    await expectFree(gate, 2);
  });

  it('frees the slot when the work throws', async () => {
    const gate = new FifoGate(1);
    await expect(gate.run(() => Promise.reject(new Error('db down')))).rejects.toThrow('db down');
    await expect(gate.run(() => Promise.resolve('next'))).resolves.toBe('next');
    await expectFree(gate, 1);
  });

  it('refuses a limit below one', () => {
    expect(() => new FifoGate(0)).toThrow(RangeError);
  });
});
