/**
 * Turns a backup into the data directory (the server must be stopped):
 *   npm run db:restore -- --from backup.bson [--data <dir>]
 * The backup is checked record by record first; the current directory is kept beside it as
 * `<dir>.before-restore-<time>`, never deleted.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { defaultDataDir } from '../cli';
import { decodeRecords } from '../journal';
import { lockHolder } from '../lock';
import { parseFlags, runTool } from './source';

const USAGE = 'usage: db:restore --from <backup file> [--data <dir>]';

export interface RestoreResult {
  dataDir: string;
  /** Where the previous data directory was moved, if there was one. */
  previous?: string;
  documents: number;
}

/** Validates a backup file: framed, checksummed records from a snapshot header to its end marker. */
export async function checkBackup(file: string): Promise<{ buf: Buffer; documents: number }> {
  const buf = await fsp.readFile(file);
  let header = false;
  let ended = false;
  let count = 0;
  let documents = 0;
  const end = decodeRecords(buf, (e) => {
    if (e.snapshot === 1) header = true;
    else if (e.end === true) ended = e.count === count;
    else {
      count++;
      if (e.op === 'put') documents++;
    }
  });
  if (!header || !ended || end !== buf.length) {
    throw new Error(`${file} is not a complete backup (damaged or truncated); nothing was changed`);
  }
  return { buf, documents };
}

export async function restoreFrom(file: string, dataDir: string): Promise<RestoreResult> {
  const dir = path.resolve(dataDir);
  const holder = await lockHolder(dir);
  if (holder !== undefined) {
    throw new Error(`data directory ${dir} is in use by process ${holder}: stop the app (or npm run db) first`);
  }
  const { buf, documents } = await checkBackup(file);
  let previous: string | undefined;
  const exists = await fsp.readdir(dir).then(
    (names) => names.length > 0,
    () => false,
  );
  if (exists) {
    previous = `${dir}.before-restore-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    await fsp.rename(dir, previous);
  }
  await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
  const tmp = path.join(dir, 'snapshot.bson.tmp');
  const fh = await fsp.open(tmp, 'w', 0o600);
  try {
    await fh.write(buf);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await fsp.rename(tmp, path.join(dir, 'snapshot.bson'));
  return { dataDir: dir, previous, documents };
}

async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2), { '--from': 'value', '--data': 'value' }, USAGE);
  const from = flags.get('--from');
  if (!from) throw new Error(`--from <backup file> is required\n${USAGE}`);
  const r = await restoreFrom(from, flags.get('--data') ?? defaultDataDir());
  console.log(
    `db:restore: ${r.documents} documents restored into ${r.dataDir}` +
      (r.previous ? `; the previous data is kept in ${r.previous}` : ''),
  );
}

if (require.main === module) runTool('db:restore', main);
