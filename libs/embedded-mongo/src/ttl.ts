import type { Store } from './store';
import type { Doc } from './values';

const MAX_PER_SWEEP = 10_000;

/** Deletes documents whose TTL index date is past its `expireAfterSeconds`, like mongod's monitor. */
export function removeExpired(store: Store, now = Date.now()): number {
  let removed = 0;
  for (const colls of store.dbs.values()) {
    for (const coll of colls.values()) {
      for (const idx of coll.indexes) {
        const ttl = idx.spec.expireAfterSeconds;
        if (ttl === undefined || !Number.isFinite(ttl) || idx.fields.length !== 1) continue;
        const cutoff = new Date(now - ttl * 1000);
        const expired: Doc[] = [];
        for (const d of coll.matches({ [idx.fields[0]]: { $lt: cutoff } })) {
          expired.push(d);
          if (expired.length >= MAX_PER_SWEEP) break;
        }
        for (const d of expired) coll.remove(d);
        removed += expired.length;
      }
    }
  }
  return removed;
}
