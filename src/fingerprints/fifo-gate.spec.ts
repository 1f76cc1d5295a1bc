import { FifoGate } from './fifo-gate';

const deferred = () => {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
};

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
    expect(gate.running).toBe(2);
    blockers[0].resolve();
    blockers[2].resolve();
    blockers[3].resolve();
    await expect(Promise.all(runs)).resolves.toEqual([0, 1, 2, 3]);
    expect(gate.running).toBe(0);
  });

  it('frees the slot when the work throws', async () => {
    const gate = new FifoGate(1);
    await expect(gate.run(() => Promise.reject(new Error('db down')))).rejects.toThrow('db down');
    await expect(gate.run(() => Promise.resolve('next'))).resolves.toBe('next');
    expect(gate.running).toBe(0);
  });

  it('refuses a limit below one', () => {
    expect(() => new FifoGate(0)).toThrow(RangeError);
  });
});
