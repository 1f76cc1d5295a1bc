/**
 * Stored documents' BSON bytes, packed one after another into large slabs and addressed by record
 * number. A Buffer object per document costs more than a punch's own bytes once its map entry and
 * key string are counted; here a record costs its bytes plus twelve bytes of location.
 *
 * Bytes once written are never changed: an update appends the new version and a reader (or a
 * snapshot being written) holding a view of the old one keeps seeing it. A slab whose live bytes
 * fall under a quarter of its size is emptied into the current slab (at most one slab's worth of
 * copying, well under a millisecond) and dropped.
 *
 * Record numbers grow in insertion order and are not reused, so walking them in order is the
 * collection's natural order, and an index entry that names a record stays valid while the
 * record lives.
 */

/** Slab size: documents are appended into slabs of this many bytes (larger documents get their own). */
export const SLAB_BYTES = 1 << 20;
/** A collection's first slab; each next one doubles up to SLAB_BYTES (small collections stay small). */
const FIRST_SLAB_BYTES = 16 << 10;
const RECLAIM_RATIO = 0.25;
const NONE = 0xffffffff;

export class RecordStore {
  private slabs: Array<Buffer | undefined> = [];
  /** Bytes of each slab still belonging to live records. */
  private live: number[] = [];
  private current = -1;
  private used = 0;
  private nextSlabBytes = FIRST_SLAB_BYTES;
  private slabOf = new Uint32Array(1024).fill(NONE);
  private offset = new Uint32Array(1024);
  private length = new Uint32Array(1024);
  /** Record numbers handed out so far (live or removed). */
  private next = 0;
  private count = 0;
  private bytes = 0;
  /** Slabs emptied into newer ones so far (tests). */
  reclaimed = 0;

  /** Number of live records. */
  get size(): number {
    return this.count;
  }

  /** Sum of the live records' sizes. */
  get dataBytes(): number {
    return this.bytes;
  }

  /** One past the highest record number handed out. */
  get limit(): number {
    return this.next;
  }

  /** Bytes of slabs held (live data, space not yet reclaimed, and the current slab's free tail). */
  get slabBytes(): number {
    let n = 0;
    for (const s of this.slabs) n += s ? s.length : 0;
    return n;
  }

  has(r: number): boolean {
    return r >= 0 && r < this.next && this.slabOf[r] !== NONE;
  }

  /** A view of a record's bytes (undefined when removed). The bytes never change. */
  get(r: number): Buffer | undefined {
    if (!(r >= 0 && r < this.next)) return undefined;
    const s = this.slabOf[r];
    if (s === NONE) return undefined;
    const off = this.offset[r];
    return this.slabs[s]!.subarray(off, off + this.length[r]);
  }

  /** Stores a new record; returns its number. */
  add(doc: Uint8Array): number {
    const r = this.next++;
    if (r >= this.slabOf.length) this.grow();
    this.count++;
    this.place(r, doc);
    return r;
  }

  /** Stores a new version of a live record. */
  set(r: number, doc: Uint8Array): void {
    if (!this.has(r)) throw new Error(`record ${r} is not stored`);
    const s = this.slabOf[r];
    this.release(r);
    this.place(r, doc);
    this.maybeReclaim(s);
  }

  delete(r: number): boolean {
    if (!this.has(r)) return false;
    const s = this.slabOf[r];
    this.release(r);
    this.slabOf[r] = NONE;
    this.count--;
    this.maybeReclaim(s);
    return true;
  }

  /** Live record numbers in natural (insertion) order. */
  *records(from = 0): Generator<number> {
    for (let r = from; r < this.next; r++) if (this.slabOf[r] !== NONE) yield r;
  }

  /**
   * A frozen view of the records as they are now, for a snapshot written over many turns: the
   * location tables are copied (a few bytes per record) and the slabs are referenced, so later
   * writes and reclaims do not change what the view reads.
   */
  freeze(): FrozenRecords {
    const n = this.next;
    return new FrozenRecords(
      this.slabs.slice(),
      this.slabOf.slice(0, n),
      this.offset.slice(0, n),
      this.length.slice(0, n),
      this.count,
    );
  }

  private release(r: number): void {
    const s = this.slabOf[r];
    this.live[s] -= this.length[r];
    this.bytes -= this.length[r];
  }

  private place(r: number, doc: Uint8Array): void {
    const len = doc.length;
    let s: number;
    let off: number;
    if (len > SLAB_BYTES / 4) {
      // A large document gets a slab of its own (dropped when the document is replaced or removed).
      s = this.newSlab(len);
      off = 0;
    } else {
      if (this.current < 0 || this.used + len > this.slabs[this.current]!.length) {
        this.current = this.newSlab(Math.max(this.nextSlabBytes, len));
        this.nextSlabBytes = Math.min(SLAB_BYTES, this.nextSlabBytes * 2);
        this.used = 0;
      }
      s = this.current;
      off = this.used;
      this.used += len;
    }
    this.slabs[s]!.set(doc, off);
    this.slabOf[r] = s;
    this.offset[r] = off;
    this.length[r] = len;
    this.live[s] += len;
    this.bytes += len;
  }

  private newSlab(size: number): number {
    let s = this.slabs.indexOf(undefined);
    if (s < 0) s = this.slabs.length;
    this.slabs[s] = Buffer.allocUnsafeSlow(size);
    this.live[s] = 0;
    return s;
  }

  /** Moves the live records out of a mostly dead slab (not the one being filled) and drops it. */
  private maybeReclaim(s: number): void {
    if (s === this.current) return;
    const slab = this.slabs[s];
    if (!slab) return;
    if (this.live[s] > 0 && this.live[s] >= slab.length * RECLAIM_RATIO) return;
    if (this.live[s] > 0) {
      for (let r = 0; r < this.next; r++) {
        if (this.slabOf[r] !== s) continue;
        const off = this.offset[r];
        const bytes = slab.subarray(off, off + this.length[r]);
        this.live[s] -= bytes.length;
        this.bytes -= bytes.length;
        this.place(r, bytes);
      }
    }
    this.slabs[s] = undefined;
    this.live[s] = 0;
    this.reclaimed++;
  }

  private grow(): void {
    const cap = this.slabOf.length * 2;
    const slabOf = new Uint32Array(cap).fill(NONE);
    slabOf.set(this.slabOf);
    const offset = new Uint32Array(cap);
    offset.set(this.offset);
    const length = new Uint32Array(cap);
    length.set(this.length);
    this.slabOf = slabOf;
    this.offset = offset;
    this.length = length;
  }
}

/** Records as they were when `RecordStore.freeze` was called. */
export class FrozenRecords {
  constructor(
    private readonly slabs: Array<Buffer | undefined>,
    private readonly slabOf: Uint32Array,
    private readonly offset: Uint32Array,
    private readonly length: Uint32Array,
    readonly size: number,
  ) {}

  get limit(): number {
    return this.slabOf.length;
  }

  /** The record's bytes, or undefined when it was not live at the freeze. */
  get(r: number): Buffer | undefined {
    const s = this.slabOf[r];
    if (s === undefined || s === NONE) return undefined;
    const off = this.offset[r];
    return this.slabs[s]!.subarray(off, off + this.length[r]);
  }
}
