import { Collection, type ChangeSink } from './collection';
import { invalidNamespace } from './errors';
import type { IndexSpec } from './indexes';
import type { Doc } from './values';

const BAD_DB_CHARS = /[/\\. "$*<>:|?\0]/;

export function checkDbName(db: unknown): string {
  if (typeof db !== 'string' || db.length === 0 || db.length > 63 || BAD_DB_CHARS.test(db)) {
    throw invalidNamespace(`Invalid database name: '${String(db)}'`);
  }
  return db;
}

export function checkCollName(db: string, name: unknown): string {
  if (typeof name !== 'string' || name.length === 0) {
    throw invalidNamespace(`Invalid namespace specified '${db}.${String(name)}'`);
  }
  if (name.includes('$') || name.includes('\0') || name.startsWith('.') || name.endsWith('.')) {
    throw invalidNamespace(`Invalid collection name: ${name}`);
  }
  return name;
}

/**
 * All databases. Every change goes through `record`, which counts it (so a caller can tell
 * whether a command wrote) and hands it to the journal when one is attached.
 */
export class Store implements ChangeSink {
  readonly dbs = new Map<string, Map<string, Collection>>();
  /** Number of changes recorded so far. */
  seq = 0;
  journal?: { append(entry: Doc): void };
  private recovering = false;
  /** Recovery: a snapshot is loading (its collections append documents without lookups). */
  private bulk = false;

  record(entry: Doc): void {
    if (this.recovering) return;
    this.seq++;
    this.journal?.append(entry);
  }

  getCollection(db: string, name: string): Collection | undefined {
    return this.dbs.get(db)?.get(name);
  }

  /** Returns the collection, creating it (and its database) when missing. */
  ensureCollection(db: string, name: string, options: Doc = {}): Collection {
    const existing = this.getCollection(db, name);
    if (existing) return existing;
    checkDbName(db);
    checkCollName(db, name);
    let colls = this.dbs.get(db);
    if (!colls) {
      colls = new Map();
      this.dbs.set(db, colls);
    }
    const coll = new Collection(db, name, options, this);
    if (this.bulk) coll.beginBulk();
    colls.set(name, coll);
    this.record({ op: 'create', db, c: name, options });
    return coll;
  }

  dropCollection(db: string, name: string): boolean {
    const colls = this.dbs.get(db);
    if (!colls?.has(name)) return false;
    colls.delete(name);
    if (colls.size === 0) this.dbs.delete(db);
    this.record({ op: 'drop', db, c: name });
    return true;
  }

  dropDatabase(db: string): void {
    if (!this.dbs.has(db)) return;
    this.dbs.delete(db);
    this.record({ op: 'dropDatabase', db });
  }

  /** Recovery: a snapshot starts loading (its documents are stored once each). */
  beginBulk(): void {
    this.bulk = true;
  }

  /** Recovery: the snapshot is loaded; journal records may now replace and remove its documents. */
  endBulk(): void {
    this.bulk = false;
    for (const colls of this.dbs.values()) for (const c of colls.values()) c.endBulk();
  }

  /** After recovery: builds every index from the loaded documents. */
  rebuildIndexes(): void {
    this.bulk = false;
    for (const colls of this.dbs.values()) for (const c of colls.values()) c.rebuildIndexes();
  }

  /** Recovery: stores a document's bytes as read from the journal or snapshot (copied). */
  applyPut(db: string, c: string, doc: Buffer): void {
    this.recovering = true;
    try {
      this.ensureCollection(db, c).loadBytes(doc);
    } finally {
      this.recovering = false;
    }
  }

  /** A cheap estimate of the memory every collection holds (see `Collection.approximateMemoryBytes`). */
  approximateMemoryBytes(): number {
    let bytes = 0;
    for (const colls of this.dbs.values()) for (const c of colls.values()) bytes += c.approximateMemoryBytes();
    return bytes;
  }

  /** Applies one journal entry during recovery (idempotent, no checks, nothing recorded). */
  apply(entry: Doc): void {
    this.recovering = true;
    try {
      const db = entry.db as string;
      const c = entry.c as string;
      switch (entry.op) {
        case 'create':
          this.ensureCollection(db, c, (entry.options as Doc) ?? {});
          break;
        case 'put':
          this.ensureCollection(db, c).loadRaw(entry.d as Doc);
          break;
        case 'del':
          this.getCollection(db, c)?.unloadRaw(entry.id);
          break;
        case 'drop':
          this.dropCollection(db, c);
          break;
        case 'dropDatabase':
          this.dropDatabase(db);
          break;
        case 'createIndex':
          this.ensureCollection(db, c).declareIndex(entry.spec as IndexSpec);
          break;
        case 'dropIndex':
          this.getCollection(db, c)?.dropIndex(entry.name as string);
          break;
        default:
          break;
      }
    } finally {
      this.recovering = false;
    }
  }
}
