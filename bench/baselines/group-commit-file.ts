import { open, type FileHandle } from 'node:fs/promises';

/**
 * Append-only file where a write resolves only after it is fsynced; writes that arrive while an
 * fsync runs share the next one (group commit), as a database journal does.
 */
export class GroupCommitFile {
  private fh?: FileHandle;
  private pending: Array<{ buf: Buffer; resolve: () => void; reject: (e: Error) => void }> = [];
  private flushing = false;
  syncs = 0;

  async open(path: string): Promise<void> {
    this.fh = await open(path, 'a');
  }

  append(buf: Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ buf, resolve, reject });
      if (!this.flushing) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0);
      try {
        await this.fh!.write(Buffer.concat(batch.map((b) => b.buf)));
        await this.fh!.sync();
        this.syncs++;
        for (const b of batch) b.resolve();
      } catch (e) {
        for (const b of batch) b.reject(e as Error);
      }
    }
    this.flushing = false;
  }

  async close(): Promise<void> {
    await this.fh?.close();
  }
}
