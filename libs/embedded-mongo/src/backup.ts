/**
 * `embeddedBackup` (on admin): the whole state captured at one instant, returned through a cursor
 * as snapshot records, so `npm run db:backup` can write a consistent copy of a running server
 * without the server writing files anywhere. Documents are stored as BSON and decoded here, all in
 * one synchronous pass, so the capture is one instant of the database.
 */
import type { ServerState } from './commands';
import { badValue } from './errors';
import type { Doc } from './values';

export function captureRecords(s: ServerState): Doc[] {
  const out: Doc[] = [{ snapshot: 1, gen: 0, createdAt: new Date() }];
  for (const [db, colls] of s.store.dbs) {
    for (const [c, coll] of colls) {
      out.push({ op: 'create', db, c, options: coll.options });
      for (const d of coll.allDocs()) out.push({ op: 'put', db, c, d });
      for (const idx of coll.indexes.slice(1)) out.push({ op: 'createIndex', db, c, spec: idx.spec });
    }
  }
  out.push({ end: true, count: out.length - 1 });
  return out;
}

export function backupCmd(cmd: Doc, db: string, s: ServerState): Doc {
  if (db !== 'admin') throw badValue('embeddedBackup may only be run against the admin database');
  const c = cmd.cursor as { batchSize?: unknown } | undefined;
  const batchSize = typeof c?.batchSize === 'number' ? c.batchSize : undefined;
  return s.cursors.reply('admin.$backup', captureRecords(s), batchSize, false);
}
