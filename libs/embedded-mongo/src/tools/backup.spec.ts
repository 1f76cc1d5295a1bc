import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MongoClient } from 'mongodb';
import { launch } from '../launcher';
import { backupTo } from './backup';
import { restoreFrom } from './restore';
import { openSource } from './source';

jest.setTimeout(60_000);

describe('db:backup / db:restore', () => {
  let root: string;

  beforeEach(async () => {
    root = await fsp.mkdtemp(path.join(os.tmpdir(), 'embedded-mongo-backup-'));
  });

  afterEach(async () => {
    await fsp.rm(root, { recursive: true, force: true });
  });

  it('backs up a running server while it is written to, and restores a consistent copy', async () => {
    const dataDir = path.join(root, 'db');
    const server = await launch({ dataDir, socketPath: true, quiet: true });
    const client = await MongoClient.connect(server.uri);
    const docs = client.db('timmy').collection('docs');
    await docs.createIndex({ seq: 1 }, { unique: true });
    for (let i = 0; i < 500; i++) await docs.insertOne({ seq: i, pad: 'x'.repeat(200) });
    let writing = true;
    let next = 500;
    const writer = (async () => {
      while (writing) await docs.insertOne({ seq: next++, pad: 'y'.repeat(200) });
    })();
    const file = path.join(root, 'backup.bson');
    let result;
    // The tool finds the running server through the socket in its data directory.
    const source = await openSource({ dataDir });
    try {
      result = await backupTo(source.uri, file);
    } finally {
      writing = false;
      await writer;
      await source.close();
    }
    expect(result.documents).toBeGreaterThanOrEqual(500);
    expect(result.collections).toBe(1);
    // While the server holds the directory, restoring into it is refused.
    await expect(restoreFrom(file, dataDir)).rejects.toThrow(/in use by process/);
    await client.close();
    await server.stop();

    const restoredDir = path.join(root, 'restored');
    const r = await restoreFrom(file, restoredDir);
    expect(r.documents).toBe(result.documents);
    const restored = await launch({ dataDir: restoredDir, socketPath: true, quiet: true });
    const c2 = await MongoClient.connect(restored.uri);
    try {
      const seqs = (await c2.db('timmy').collection('docs').find().sort({ seq: 1 }).toArray()).map(
        (d) => d.seq as number,
      );
      // One instant: every write before it, none after, no gap.
      expect(seqs).toEqual(Array.from({ length: result.documents }, (_, i) => i));
      expect((await c2.db('timmy').collection('docs').listIndexes().toArray()).map((i) => i.name)).toContain('seq_1');
    } finally {
      await c2.close();
      await restored.stop();
    }
  });

  it('restores over an existing directory by keeping it aside, and refuses a damaged backup without touching anything', async () => {
    const dataDir = path.join(root, 'db');
    const server = await launch({ dataDir, socketPath: true, quiet: true });
    const client = await MongoClient.connect(server.uri);
    await client
      .db('timmy')
      .collection('a')
      .insertMany([{ v: 1 }, { v: 2 }]);
    const file = path.join(root, 'b.bson');
    await backupTo(server.uri, file);
    await client.db('timmy').collection('a').insertOne({ v: 3 });
    await client.close();
    await server.stop();

    const truncated = path.join(root, 'truncated.bson');
    const buf = await fsp.readFile(file);
    await fsp.writeFile(truncated, buf.subarray(0, buf.length - 10));
    await expect(restoreFrom(truncated, dataDir)).rejects.toThrow(/not a complete backup/);
    expect(await fsp.readdir(root)).not.toContainEqual(expect.stringMatching(/before-restore/));

    const r = await restoreFrom(file, dataDir);
    expect(r.previous).toMatch(/db\.before-restore-/);
    const again = await launch({ dataDir, socketPath: true, quiet: true });
    const c2 = await MongoClient.connect(again.uri);
    expect(await c2.db('timmy').collection('a').countDocuments()).toBe(2);
    await c2.close();
    await again.stop();
    // The data written after the backup is still in the kept directory.
    const kept = await launch({ dataDir: r.previous, socketPath: true, quiet: true });
    const c3 = await MongoClient.connect(kept.uri);
    expect(await c3.db('timmy').collection('a').countDocuments()).toBe(3);
    await c3.close();
    await kept.stop();
  });
});
