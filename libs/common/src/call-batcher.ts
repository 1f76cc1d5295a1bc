export interface CallBatcherOptions {
  /**
   * At least this long between the starts of two batches (default 0). A call made when the last
   * batch started longer ago than this runs at once (after the current turn); under a burst the
   * calls of each interval go together, so a fleet dialling in costs a command per interval, not
   * one per round trip of a few terminals. A full batch (`maxBatch`) never waits.
   */
  minIntervalMs?: number;
}

/**
 * Gathers calls made while the previous batch is in the database (or within one turn of the event
 * loop) and runs them as one batch: a thousand terminals registering at once cost a few round
 * trips, not thousands. At most one batch runs at a time; one batch holds at most `maxBatch`
 * calls. `run` answers each input in order: a value, or an Error for that input alone.
 */
export class CallBatcher<I, O> {
  private pending: { input: I; resolve: (v: O) => void; reject: (e: unknown) => void }[] = [];
  private running = false;
  private scheduled = false;
  /** The wait for the interval to pass (cut short when the batch fills up). */
  private timer?: ReturnType<typeof setTimeout>;
  private lastStart = Number.NEGATIVE_INFINITY;
  private readonly minIntervalMs: number;

  constructor(
    private readonly run: (inputs: I[]) => Promise<Array<O | Error>>,
    private readonly maxBatch = 1000,
    opts: CallBatcherOptions = {},
  ) {
    this.minIntervalMs = Math.max(0, opts.minIntervalMs ?? 0);
  }

  add(input: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.pending.push({ input, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.timer !== undefined && this.pending.length >= this.maxBatch) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.scheduled = false;
    }
    if (this.running || this.scheduled || this.pending.length === 0) return;
    this.scheduled = true;
    const wait = this.pending.length >= this.maxBatch ? 0 : this.lastStart + this.minIntervalMs - Date.now();
    const go = () => {
      this.timer = undefined;
      this.scheduled = false;
      void this.flush();
    };
    if (wait > 0) this.timer = setTimeout(go, wait);
    else setImmediate(go);
  }

  private async flush(): Promise<void> {
    if (this.running || this.pending.length === 0) return;
    const batch = this.pending.splice(0, this.maxBatch);
    this.running = true;
    this.lastStart = Date.now();
    try {
      const results = await this.run(batch.map((p) => p.input));
      batch.forEach((p, i) => {
        const r = results[i];
        if (r instanceof Error) p.reject(r);
        else if (i < results.length) p.resolve(r);
        else p.reject(new Error('batch answered fewer inputs than it was given'));
      });
    } catch (err) {
      for (const p of batch) p.reject(err);
    } finally {
      this.running = false;
      this.schedule();
    }
  }
}
