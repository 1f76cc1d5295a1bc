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

  constructor(
    private readonly run: (inputs: I[]) => Promise<Array<O | Error>>,
    private readonly maxBatch = 1000,
  ) {}

  add(input: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.pending.push({ input, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.running || this.scheduled || this.pending.length === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    if (this.running || this.pending.length === 0) return;
    const batch = this.pending.splice(0, this.maxBatch);
    this.running = true;
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
