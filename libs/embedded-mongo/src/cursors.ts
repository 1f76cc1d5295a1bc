import { calculateObjectSize, Long } from 'bson';
import { CommandError } from './errors';
import type { Doc } from './values';

const MAX_BATCH_BYTES = 16 * 1024 * 1024 - 16 * 1024;
const DEFAULT_FIRST_BATCH = 101;
const IDLE_TIMEOUT_MS = 10 * 60 * 1000;
const MAX_OPEN_CURSORS = 10_000;

interface OpenCursor {
  ns: string;
  docs: Doc[];
  pos: number;
  project?: (docs: Doc[]) => Doc[];
  lastUsed: number;
}

/**
 * Server-side cursors. Results are materialised when the command runs; since stored documents are
 * never mutated, a cursor is a consistent snapshot. Cursors are shared by all connections (the
 * driver may issue getMore on any pooled connection) and expire when idle.
 */
export class CursorRegistry {
  private readonly open = new Map<string, OpenCursor>();
  private nextId = 1 + Math.floor(Math.random() * 2 ** 40);

  get size(): number {
    return this.open.size;
  }

  /** Builds a cursor reply: the first batch, and a registered cursor when more remain. */
  reply(
    ns: string,
    docs: Doc[],
    batchSize: number | undefined,
    singleBatch: boolean,
    project?: (d: Doc[]) => Doc[],
  ): Doc {
    const size = batchSize === undefined || batchSize <= 0 ? DEFAULT_FIRST_BATCH : batchSize;
    const batch = takeBatch(docs, 0, batchSize === 0 ? 0 : size);
    let id = Long.ZERO;
    if (batch.end < docs.length && !singleBatch) {
      this.evict();
      const n = this.nextId++;
      this.open.set(String(n), { ns, docs, pos: batch.end, project, lastUsed: Date.now() });
      id = Long.fromNumber(n);
    }
    const firstBatch = project ? project(batch.docs) : batch.docs;
    return { cursor: { firstBatch, id, ns }, ok: 1 };
  }

  getMore(id: unknown, collection: string, db: string, batchSize: number | undefined): Doc {
    const key = cursorKey(id);
    const cur = this.open.get(key);
    if (!cur) throw new CommandError(43, 'CursorNotFound', `cursor id ${key} not found`);
    if (cur.ns !== `${db}.${collection}`) {
      throw new CommandError(
        13,
        'Unauthorized',
        `Requested getMore on namespace '${db}.${collection}', but cursor belongs to a different namespace ${cur.ns}`,
      );
    }
    const batch = takeBatch(cur.docs, cur.pos, batchSize && batchSize > 0 ? batchSize : Number.MAX_SAFE_INTEGER);
    cur.pos = batch.end;
    cur.lastUsed = Date.now();
    let outId: Long = Long.fromString(key);
    if (cur.pos >= cur.docs.length) {
      this.open.delete(key);
      outId = Long.ZERO;
    }
    const nextBatch = cur.project ? cur.project(batch.docs) : batch.docs;
    return { cursor: { nextBatch, id: outId, ns: cur.ns }, ok: 1 };
  }

  kill(ids: unknown[]): Doc {
    const killed: Long[] = [];
    const notFound: Long[] = [];
    for (const id of ids) {
      const key = cursorKey(id);
      (this.open.delete(key) ? killed : notFound).push(Long.fromString(key));
    }
    return { cursorsKilled: killed, cursorsNotFound: notFound, cursorsAlive: [], cursorsUnknown: [], ok: 1 };
  }

  /** Drops idle cursors, and the oldest ones when there are too many. */
  evict(now = Date.now()): void {
    for (const [k, c] of this.open) if (now - c.lastUsed > IDLE_TIMEOUT_MS) this.open.delete(k);
    while (this.open.size >= MAX_OPEN_CURSORS) {
      const first = this.open.keys().next();
      if (first.done) break;
      this.open.delete(first.value);
    }
  }

  clear(): void {
    this.open.clear();
  }
}

function cursorKey(id: unknown): string {
  if (typeof id === 'number' || typeof id === 'bigint') return String(id);
  if (id instanceof Long) return id.toString();
  throw new CommandError(14, 'TypeMismatch', 'cursor id must be a long');
}

function takeBatch(docs: Doc[], start: number, max: number): { docs: Doc[]; end: number } {
  let bytes = 0;
  let end = start;
  while (end < docs.length && end - start < max) {
    const sz = calculateObjectSize(docs[end]);
    if (end > start && bytes + sz > MAX_BATCH_BYTES) break;
    bytes += sz;
    end++;
  }
  return { docs: docs.slice(start, end), end };
}
