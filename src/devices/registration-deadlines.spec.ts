import { RegistrationDeadlines } from './registration-deadlines';

describe('RegistrationDeadlines', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  const socket = (ready = false, open = true) => ({ ready, open });

  it('ends, in connection order, the sockets still open and unregistered at their deadline, with one timer', () => {
    const expired: string[] = [];
    const names = new Map<object, string>();
    const d = new RegistrationDeadlines<{ ready: boolean; open: boolean }>(1000, (s) => expired.push(names.get(s)!));
    const a = socket();
    const b = socket();
    const c = socket();
    names.set(a, 'a').set(b, 'b').set(c, 'c');
    d.add(a);
    jest.advanceTimersByTime(400);
    d.add(b);
    jest.advanceTimersByTime(300);
    d.add(c);
    expect(jest.getTimerCount()).toBe(1);
    jest.advanceTimersByTime(299);
    expect(expired).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(expired).toEqual(['a']);
    b.ready = true; // registered in time
    jest.advanceTimersByTime(400);
    expect(expired).toEqual(['a']);
    jest.advanceTimersByTime(300);
    expect(expired).toEqual(['a', 'c']);
    expect(d.size).toBe(0);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('lets go of closed sockets: removed, or found closed at the deadline', () => {
    const expired: unknown[] = [];
    const d = new RegistrationDeadlines<{ ready: boolean; open: boolean }>(1000, (s) => expired.push(s));
    const closedLater = socket();
    const removed = socket();
    d.add(closedLater);
    d.add(removed);
    d.remove(removed);
    expect(d.size).toBe(1);
    closedLater.open = false;
    jest.advanceTimersByTime(1000);
    expect(expired).toEqual([]);
    expect(d.size).toBe(0);
  });

  it('stop() clears the timer and every deadline', () => {
    const expired: unknown[] = [];
    const d = new RegistrationDeadlines<{ ready: boolean; open: boolean }>(1000, (s) => expired.push(s));
    d.add(socket());
    d.stop();
    jest.advanceTimersByTime(2000);
    expect(expired).toEqual([]);
    expect(jest.getTimerCount()).toBe(0);
  });
});
