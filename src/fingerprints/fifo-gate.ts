/**
 * A first-come-first-served limit on concurrent work. Used for terminal frames being stored:
 * terminals in closed loop can keep thousands of frames in flight, and stored all at once they
 * queue every other database command (the outbox's claims, registrations) behind them; through
 * the gate only a bounded number run at once, so other work waits behind at most that many, while
 * the database still commits them together. And for the outbox's requests to the HR server.
 */
export class FifoGate {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError('FifoGate limit must be a positive integer');
  }

  /** Frames waiting for their turn (for metrics). */
  get queued(): number {
    return this.waiting.length;
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active++;
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      // The slot passes straight to the next in line, so a newcomer cannot overtake the queue.
      if (next) next();
      else this.active--;
    }
  }
}
