/**
 * A consistent backup of the embedded database, also while it serves:
 *   npm run db:backup -- --out backup.bson [--data <dir> | --from <uri>]
 * The server captures its whole state at one instant (`embeddedBackup`) and streams it; the file
 * has the snapshot format, so `npm run db:restore` turns it back into a data directory.
 */
import { type Document, Long, MongoClient } from 'mongodb';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { defaultDataDir } from '../cli';
import { encodeRecord } from '../journal';
import { openSource, parseFlags, runTool } from './source';

const USAGE = 'usage: db:backup --out <file> [--data <dir> | --from <uri>]';

export interface BackupResult {
  file: string;
  bytes: number;
  documents: number;
  collections: number;
}

export async function backupTo(uri: string, out: string): Promise<BackupResult> {
  const file = path.resolve(out);
  const tmp = `${file}.partial`;
  const client = await MongoClient.connect(uri, { retryWrites: false });
  const fh = await fsp.open(tmp, 'w', 0o600);
  let bytes = 0;
  let documents = 0;
  let collections = 0;
  let records = 0;
  let ended = false;
  try {
    const admin = client.db('admin');
    const write = async (batch: Document[]): Promise<void> => {
      const bufs: Buffer[] = [];
      for (const r of batch) {
        if (r.end === true) {
          if (r.count !== records - 1)
            throw new Error(`backup stream ended after ${records - 1} records, expected ${String(r.count)}`);
          ended = true;
        } else if (r.op === 'put') documents++;
        else if (r.op === 'create') collections++;
        records++;
        bufs.push(encodeRecord(r));
      }
      const all = Buffer.concat(bufs);
      await fh.write(all);
      bytes += all.length;
    };
    let reply = await admin.command({ embeddedBackup: 1, cursor: { batchSize: 1000 } });
    let cursor = reply.cursor as { id: Long; firstBatch?: Document[]; nextBatch?: Document[] };
    await write(cursor.firstBatch ?? []);
    while (!Long.ZERO.equals(cursor.id)) {
      reply = await admin.command({ getMore: cursor.id, collection: '$backup' });
      cursor = reply.cursor as typeof cursor;
      await write(cursor.nextBatch ?? []);
    }
    if (!ended) throw new Error('backup stream ended early');
    await fh.sync();
  } catch (e) {
    await fh.close();
    await fsp.rm(tmp, { force: true });
    throw e;
  } finally {
    await client.close();
  }
  await fh.close();
  await fsp.rename(tmp, file);
  return { file, bytes, documents, collections };
}

async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2), { '--out': 'value', '--from': 'value', '--data': 'value' }, USAGE);
  const out = flags.get('--out');
  if (!out) throw new Error(`--out <file> is required\n${USAGE}`);
  const source = await openSource({ from: flags.get('--from'), dataDir: flags.get('--data') ?? defaultDataDir() });
  try {
    const r = await backupTo(source.uri, out);
    console.log(
      `db:backup: ${r.documents} documents in ${r.collections} collections of ${source.describe} written to ${r.file} (${(r.bytes / 1048576).toFixed(1)} MB)`,
    );
  } finally {
    await source.close();
  }
}

if (require.main === module) runTool('db:backup', main);
