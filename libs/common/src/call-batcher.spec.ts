import { CallBatcher } from './call-batcher';

describe('CallBatcher', () => {
  it('runs the calls made in one turn as one batch, and each caller gets its own answer', async () => {
    const batches: number[][] = [];
    const b = new CallBatcher<number, number>(async (xs) => {
      batches.push(xs);
      return xs.map((x) => x * 2);
    });
    const answers = await Promise.all([1, 2, 3].map((x) => b.add(x)));
    expect(answers).toEqual([2, 4, 6]);
    expect(batches).toEqual([[1, 2, 3]]);
  });

  it('gathers the calls made while a batch runs into the next one; one batch at a time', async () => {
    const batches: number[][] = [];
    let running = 0;
    let maxRunning = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const b = new CallBatcher<number, number>(async (xs) => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      batches.push(xs);
      if (batches.length === 1) await gate;
      running--;
      return xs;
    });
    const first = b.add(1);
    await new Promise((r) => setImmediate(r));
    const later = [b.add(2), b.add(3)];
    await new Promise((r) => setImmediate(r));
    expect(batches).toEqual([[1]]);
    release();
    await expect(Promise.all([first, ...later])).resolves.toEqual([1, 2, 3]);
    expect(batches).toEqual([[1], [2, 3]]);
    expect(maxRunning).toBe(1);
  });

  it('fails only the input answered with an Error; a thrown batch fails all of its calls', async () => {
    let fail = false;
    const b = new CallBatcher<number, number>(async (xs) => {
      if (fail) throw new Error('database down');
      return xs.map((x) => (x === 2 ? new Error('bad 2') : x));
    });
    const [one, two] = await Promise.allSettled([b.add(1), b.add(2)]);
    expect(one).toEqual({ status: 'fulfilled', value: 1 });
    expect(two).toMatchObject({ status: 'rejected', reason: new Error('bad 2') });
    fail = true;
    const after = await Promise.allSettled([b.add(3), b.add(4)]);
    expect(after.map((r) => r.status)).toEqual(['rejected', 'rejected']);
  });

  it('splits more calls than maxBatch into several batches', async () => {
    const sizes: number[] = [];
    const b = new CallBatcher<number, number>(async (xs) => {
      sizes.push(xs.length);
      return xs;
    }, 2);
    await Promise.all([1, 2, 3, 4, 5].map((x) => b.add(x)));
    expect(sizes).toEqual([2, 2, 1]);
  });

  it('rejects the calls a batch left unanswered', async () => {
    const b = new CallBatcher<number, number>(async () => [1]);
    const r = await Promise.allSettled([b.add(1), b.add(2)]);
    expect(r[0]).toEqual({ status: 'fulfilled', value: 1 });
    expect(r[1].status).toBe('rejected');
  });
});

describe('CallBatcher with minIntervalMs', () => {
  afterEach(() => jest.useRealTimers());

  it('runs a call at once when idle, and gathers the calls of the interval that follows into one batch', async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick'] });
    const batches: number[][] = [];
    const b = new CallBatcher<number, number>(
      async (xs) => {
        batches.push(xs);
        return xs;
      },
      1000,
      { minIntervalMs: 50 },
    );
    await expect(b.add(1)).resolves.toBe(1);
    expect(batches).toEqual([[1]]);
    const later = [2, 3, 4].map((x) => b.add(x));
    await new Promise((r) => setImmediate(r));
    expect(batches).toEqual([[1]]);
    jest.advanceTimersByTime(49);
    await new Promise((r) => setImmediate(r));
    expect(batches).toEqual([[1]]);
    jest.advanceTimersByTime(1);
    await expect(Promise.all(later)).resolves.toEqual([2, 3, 4]);
    expect(batches).toEqual([[1], [2, 3, 4]]);
  });

  it('does not hold a full batch for the interval', async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick'] });
    const batches: number[][] = [];
    const b = new CallBatcher<number, number>(
      async (xs) => {
        batches.push(xs);
        return xs;
      },
      2,
      { minIntervalMs: 10_000 },
    );
    await b.add(0);
    const full = [1, 2].map((x) => b.add(x));
    await expect(Promise.all(full)).resolves.toEqual([1, 2]);
    expect(batches).toEqual([[0], [1, 2]]);
  });
});
