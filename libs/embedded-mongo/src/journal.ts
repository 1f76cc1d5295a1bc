import { deserialize, serialize } from 'bson';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { acquireLock, releaseLock } from './lock';
import type { Store } from './store';
import type { Doc } from './values';
import { encodePutEntry, parsePutEntry } from './raw-doc';
import { crc32c } from './wire';
import { journalObserver } from './journal-observer';
import { FrozenRecords } from './record-store';

/** One collection's documents as they were when a compaction started. */
interface CapturedDocs {
  db: string;
  c: string;
  docs: FrozenRecords;
}

const SNAPSHOT = 'snapshot.bson';
const SNAPSHOT_TMP = 'snapshot.bson.tmp';
const JOURNAL_RE = /^journal\.(\d{10})$/;
const RECORD_HEADER = 8;
const SNAPSHOT_CHUNK = 1 << 20;
/**
 * A snapshot being written gives the event loop a turn at least this often (its pieces are written
 * when this much time went into encoding them, or at SNAPSHOT_CHUNK bytes, whichever comes first).
 */
const SNAPSHOT_SLICE_MS = 10;
const SNAPSHOT_READ_CHUNK = 16 << 20;

export interface JournalTuning {
  /** Compact when the journal grows past this many bytes (and past the snapshot's size). */
  compactBytes?: number;
}

const DEFAULT_COMPACT_BYTES = 64 * 1024 * 1024;

const openDirs = new Set<string>();

function journalName(gen: number): string {
  return `journal.${String(gen).padStart(10, '0')}`;
}

/** One framed record: length and CRC-32C of the BSON payload, then the payload. */
export function encodeRecord(entry: Doc): Buffer {
  // A stored document's bytes go into its record as they are, not decoded and encoded again, and
  // straight after the header (one buffer a record).
  if (entry.op === 'put' && Buffer.isBuffer(entry.raw)) {
    const rec = encodePutEntry(entry.db as string, entry.c as string, entry.raw, RECORD_HEADER);
    rec.writeUInt32LE(rec.length - RECORD_HEADER, 0);
    rec.writeUInt32LE(crc32c(rec.subarray(RECORD_HEADER)), 4);
    return rec;
  }
  const body = serialize(entry);
  const out = Buffer.allocUnsafe(RECORD_HEADER + body.length);
  out.writeUInt32LE(body.length, 0);
  out.writeUInt32LE(crc32c(body), 4);
  out.set(body, RECORD_HEADER);
  return out;
}

/** A stored document read from a record without decoding it (a view: copy what is kept). */
export type PutHandler = (db: string, c: string, doc: Buffer) => void;

/**
 * Reads records until the end or the first torn/corrupt one; returns where the valid data ends.
 * With `onPut`, document records are handed over as bytes (not decoded).
 */
export function decodeRecords(buf: Buffer, onRecord: (entry: Doc) => void, onPut?: PutHandler): number {
  let off = 0;
  while (off + RECORD_HEADER <= buf.length) {
    const len = buf.readUInt32LE(off);
    const crc = buf.readUInt32LE(off + 4);
    if (len < 5 || off + RECORD_HEADER + len > buf.length) break;
    const body = buf.subarray(off + RECORD_HEADER, off + RECORD_HEADER + len);
    if (crc32c(body) !== crc) break;
    let put: ReturnType<typeof parsePutEntry>;
    try {
      put = onPut ? parsePutEntry(body) : undefined;
    } catch {
      break;
    }
    if (put && onPut) {
      onPut(put.db, put.c, put.d);
      off += RECORD_HEADER + len;
      continue;
    }
    let entry: Doc;
    try {
      entry = deserialize(body);
    } catch {
      break;
    }
    onRecord(entry);
    off += RECORD_HEADER + len;
  }
  return off;
}

async function fsyncDir(dir: string): Promise<void> {
  let fh: fsp.FileHandle | undefined;
  try {
    fh = await fsp.open(dir, 'r');
    await fh.sync();
  } catch {
    // Some platforms cannot fsync a directory; the rename is still atomic there.
  } finally {
    await fh?.close();
  }
}

interface Waiter {
  seq: number;
  resolve: () => void;
  reject: (e: Error) => void;
}

/**
 * Append-only journal with group commit. `append` is synchronous (the change is already applied
 * in memory); `waitDurable(seq)` resolves once that change is written and fsynced. Changes that
 * arrive while an fsync is running share the next one.
 */
export class Journal {
  private fh!: fsp.FileHandle;
  private gen = 0;
  private bytes = 0;
  private snapshotBytes = 0;
  private pending: Buffer[] = [];
  private appended = 0;
  private durable = 0;
  private waiters: Waiter[] = [];
  private flushing: Promise<void> | undefined;
  private compacting: Promise<void> | undefined;
  private failed: Error | undefined;
  private closed = false;
  private readonly compactBytes: number;
  /** Counters for tests and the benchmark. */
  readonly stats = {
    records: 0,
    fsyncs: 0,
    compactions: 0,
    /** Pieces the last (or running) compaction wrote its snapshot in (the event loop had a turn after each). */
    compactionSlices: 0,
    /** Longest the last compaction held the event loop without a turn, in ms. */
    longestCompactionSliceMs: 0,
  };

  constructor(
    private readonly dir: string,
    private readonly store: Store,
    private readonly log: (msg: string) => void,
    tuning: JournalTuning,
  ) {
    this.compactBytes = tuning.compactBytes ?? DEFAULT_COMPACT_BYTES;
  }

  async open(): Promise<void> {
    await fsp.mkdir(this.dir, { recursive: true });
    await this.lock();
    this.store.beginBulk();
    let snapGen: number;
    try {
      snapGen = await this.loadSnapshot();
    } finally {
      this.store.endBulk();
    }
    const gens = (await fsp.readdir(this.dir))
      .map((f) => JOURNAL_RE.exec(f))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1]))
      .sort((a, b) => a - b);
    let replayed = 0;
    let last = snapGen;
    for (const g of gens) {
      const file = path.join(this.dir, journalName(g));
      if (g < snapGen) {
        await fsp.rm(file, { force: true });
        continue;
      }
      const buf = await fsp.readFile(file);
      const end = decodeRecords(
        buf,
        (e) => {
          this.store.apply(e);
          replayed++;
        },
        (db, c, d) => {
          this.store.applyPut(db, c, d);
          replayed++;
        },
      );
      if (end < buf.length) {
        this.log(`journal ${journalName(g)}: dropped ${buf.length - end} bytes of an incomplete record`);
        await fsp.truncate(file, end);
      }
      last = g;
      this.bytes = end;
    }
    this.store.rebuildIndexes();
    this.gen = last;
    const file = path.join(this.dir, journalName(this.gen));
    this.fh = await fsp.open(file, 'a');
    await this.fh.sync();
    await fsyncDir(this.dir);
    if (replayed > 0) this.log(`recovered ${replayed} journal records`);
  }

  private async lock(): Promise<void> {
    const abs = path.resolve(this.dir);
    if (openDirs.has(abs)) throw new Error(`data directory ${abs} is already open in this process`);
    await acquireLock(this.dir);
    openDirs.add(abs);
  }

  /**
   * Loads the snapshot a piece at a time (a million documents would otherwise be read into one
   * buffer as large as the file, then copied out).
   */
  private async loadSnapshot(): Promise<number> {
    await fsp.rm(path.join(this.dir, SNAPSHOT_TMP), { force: true });
    let fh: fsp.FileHandle;
    try {
      fh = await fsp.open(path.join(this.dir, SNAPSHOT), 'r');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 0;
      throw e;
    }
    let gen = -1;
    let complete = false;
    let total = 0;
    let damaged = false;
    try {
      const size = (await fh.stat()).size;
      let carry: Buffer = Buffer.alloc(0);
      let pos = 0;
      while (pos < size) {
        const piece = Buffer.allocUnsafe(Math.min(SNAPSHOT_READ_CHUNK, size - pos));
        const { bytesRead } = await fh.read(piece, 0, piece.length, pos);
        if (bytesRead === 0) break;
        pos += bytesRead;
        const buf =
          carry.length > 0 ? Buffer.concat([carry, piece.subarray(0, bytesRead)]) : piece.subarray(0, bytesRead);
        const end = decodeRecords(
          buf,
          (e) => {
            if (e.snapshot === 1) gen = Number(e.gen);
            else if (e.end === true) complete = true;
            else this.store.apply(e);
          },
          (db, c, d) => this.store.applyPut(db, c, d),
        );
        // A record cut by the piece boundary is completed by the next piece; anything else left is damage.
        carry = Buffer.from(buf.subarray(end));
        if (carry.length >= RECORD_HEADER && carry.readUInt32LE(0) + RECORD_HEADER <= carry.length) {
          damaged = true;
          break;
        }
      }
      total = pos;
      if (carry.length > 0) damaged = true;
    } finally {
      await fh.close();
    }
    if (gen < 0 || !complete || damaged) {
      throw new Error(`snapshot ${path.join(this.dir, SNAPSHOT)} is damaged; refusing to open`);
    }
    this.snapshotBytes = total;
    return gen;
  }

  append(entry: Doc): void {
    if (this.closed) throw new Error('journal is closed');
    const rec = encodeRecord(entry);
    this.pending.push(rec);
    this.appended++;
    this.stats.records++;
    // Writes nobody waits for (TTL removals, w:0) are flushed too.
    this.kick();
  }

  waitDurable(seq: number): Promise<void> {
    if (this.failed) return Promise.reject(this.failed);
    if (this.durable >= seq) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.waiters.push({ seq, resolve, reject });
      this.kick();
    });
  }

  private kick(): void {
    if (this.flushing) return;
    this.flushing = new Promise<void>((resolve) => {
      // Let every request already read in this turn append first, so they share one fsync.
      setImmediate(() => {
        this.flushLoop()
          .catch((e: unknown) => this.fail(e))
          .finally(() => {
            this.flushing = undefined;
            resolve();
            if (this.pending.length > 0 && !this.failed && !this.compacting) this.kick();
          });
      });
    });
  }

  private async flushLoop(): Promise<void> {
    while (this.pending.length > 0 && !this.failed) {
      const bufs = this.pending;
      const upTo = this.appended;
      this.pending = [];
      await this.writeAll(bufs);
      const syncStarted = process.hrtime.bigint();
      await this.fh.datasync();
      journalObserver.onFsync?.(Number(process.hrtime.bigint() - syncStarted) / 1e9, this.bytes);
      this.stats.fsyncs++;
      this.durable = upTo;
      this.release();
      this.maybeCompact();
      // Let a compaction take its turn even under a steady stream of writes.
      if (this.compacting) return;
    }
    this.maybeCompact();
  }

  private async writeAll(bufs: Buffer[]): Promise<void> {
    const all = bufs.length === 1 ? bufs[0] : Buffer.concat(bufs);
    let off = 0;
    while (off < all.length) {
      const { bytesWritten } = await this.fh.write(all, off, all.length - off);
      off += bytesWritten;
    }
    this.bytes += all.length;
  }

  private release(): void {
    const still: Waiter[] = [];
    for (const w of this.waiters) {
      if (w.seq <= this.durable) w.resolve();
      else still.push(w);
    }
    this.waiters = still;
  }

  private fail(e: unknown): void {
    this.failed = e instanceof Error ? e : new Error(String(e));
    this.log(`journal write failed, no further writes will be acknowledged: ${this.failed.message}`);
    for (const w of this.waiters) w.reject(this.failed);
    this.waiters = [];
  }

  private maybeCompact(): void {
    if (this.compacting || this.closed || this.failed) return;
    if (this.bytes < this.compactBytes || this.bytes < this.snapshotBytes) return;
    this.compacting = this.compact()
      .catch((e: unknown) =>
        this.log(`compaction failed (journal kept): ${e instanceof Error ? e.message : String(e)}`),
      )
      .finally(() => {
        this.compacting = undefined;
        if (this.pending.length > 0) this.kick();
      });
  }

  /**
   * Writes a snapshot of the current state and starts a new journal generation. The state is
   * captured synchronously (documents are immutable, so references suffice); changes made after
   * the capture go to the new generation, which recovery replays over the snapshot.
   */
  async compact(): Promise<void> {
    while (this.flushing) await this.flushing;
    let sliceStart = performance.now();
    let longest = 0;
    this.stats.compactionSlices = 0;
    /** Called before each wait: the time since the last one is how long the loop was held. */
    const endSlice = (): void => {
      longest = Math.max(longest, performance.now() - sliceStart);
      this.stats.compactionSlices++;
    };
    const records = this.captureState();
    endSlice();
    const oldGen = this.gen;
    const newGen = oldGen + 1;
    // Everything appended so far belongs to the old generation: write it there first.
    const oldPending = this.pending;
    const upTo = this.appended;
    this.pending = [];
    const holdFlush = (async () => {
      if (oldPending.length > 0) await this.writeAll(oldPending);
      await this.fh.datasync();
      this.durable = Math.max(this.durable, upTo);
      this.release();
      const next = await fsp.open(path.join(this.dir, journalName(newGen)), 'a');
      await fsyncDir(this.dir);
      const old = this.fh;
      this.fh = next;
      this.gen = newGen;
      this.bytes = 0;
      await old.close();
    })();
    this.flushing = holdFlush;
    try {
      await holdFlush;
    } finally {
      this.flushing = undefined;
      if (this.pending.length > 0) this.kick();
    }
    const tmp = path.join(this.dir, SNAPSHOT_TMP);
    const fh = await fsp.open(tmp, 'w');
    sliceStart = performance.now();
    let written = 0;
    try {
      let chunk: Buffer[] = [];
      let chunkBytes = 0;
      const push = async (entry: Doc): Promise<void> => {
        const rec = encodeRecord(entry);
        chunk.push(rec);
        chunkBytes += rec.length;
        if (chunkBytes >= SNAPSHOT_CHUNK || performance.now() - sliceStart >= SNAPSHOT_SLICE_MS) {
          const all = Buffer.concat(chunk);
          chunk = [];
          chunkBytes = 0;
          endSlice();
          await fh.write(all);
          sliceStart = performance.now();
          written += all.length;
        }
      };
      await push({ snapshot: 1, gen: newGen, createdAt: new Date() });
      let count = 0;
      for (const r of records) {
        if (r.docs instanceof FrozenRecords) {
          const { db, c, docs } = r as CapturedDocs;
          for (let i = 0; i < docs.limit; i++) {
            const d = docs.get(i);
            if (!d) continue;
            await push({ op: 'put', db, c, raw: d });
            count++;
          }
        } else {
          await push(r as Doc);
          count++;
        }
      }
      await push({ end: true, count });
      const all = Buffer.concat(chunk);
      endSlice();
      await fh.write(all);
      written += all.length;
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fsp.rename(tmp, path.join(this.dir, SNAPSHOT));
    await fsyncDir(this.dir);
    this.snapshotBytes = written;
    this.stats.compactions++;
    this.stats.longestCompactionSliceMs = longest;
    await fsp.rm(path.join(this.dir, journalName(oldGen)), { force: true });
  }

  /**
   * The state to snapshot: catalog entries, and each collection's documents frozen as they are
   * (stored bytes are never changed in place, an update stores new ones).
   */
  private captureState(): Array<Doc | CapturedDocs> {
    const out: Array<Doc | CapturedDocs> = [];
    for (const [db, colls] of this.store.dbs) {
      for (const [c, coll] of colls) {
        out.push({ op: 'create', db, c, options: coll.options });
        out.push({ db, c, docs: coll.records.freeze() });
        for (const idx of coll.indexes.slice(1)) out.push({ op: 'createIndex', db, c, spec: idx.spec });
      }
    }
    return out;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    while (this.compacting || this.flushing) {
      if (this.compacting) await this.compacting;
      if (this.flushing) await this.flushing;
    }
    this.closed = true;
    try {
      if (!this.failed && this.pending.length > 0) {
        await this.writeAll(this.pending);
        this.pending = [];
        await this.fh.datasync();
        this.durable = this.appended;
        this.release();
      }
    } finally {
      for (const w of this.waiters) w.reject(new Error('server stopped'));
      this.waiters = [];
      await this.fh.close();
      await releaseLock(this.dir);
      openDirs.delete(path.resolve(this.dir));
    }
  }
}

export async function openJournal(
  dir: string,
  store: Store,
  log: (msg: string) => void,
  tuning: JournalTuning = {},
): Promise<Journal> {
  const j = new Journal(dir, store, log, tuning);
  try {
    await j.open();
  } catch (e) {
    openDirs.delete(path.resolve(dir));
    throw e;
  }
  return j;
}
