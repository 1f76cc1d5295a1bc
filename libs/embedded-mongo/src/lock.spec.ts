import { type ChildProcess, spawn } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MongoClient } from 'mongodb';
import { start } from './index';
import { LOCK_FILE, processStartTicks } from './lock';

jest.setTimeout(60_000);

const ROOT = path.resolve(__dirname, '../../..');
const CHILD = path.join(__dirname, 'testing', 'crash-child.ts');

function spawnServer(dir: string): Promise<{ child: ChildProcess; uri: string; exited: Promise<void> }> {
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', CHILD, dir, '0'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, TS_NODE_PROJECT: path.join(ROOT, 'tsconfig.json') },
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /URI (\S+)\n/.exec(out);
      if (m) resolve({ child, uri: m[1], exited });
    });
    child.once('exit', (code) => reject(new Error(`server child exited (${code}) before listening: ${err}`)));
  });
}

/** A live process that has nothing to do with the database. */
function spawnBystander(): { child: ChildProcess; exited: Promise<void> } {
  const child = spawn('sleep', ['300'], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return { child, exited };
}

const describeLinux = process.platform === 'linux' ? describe : describe.skip;

describeLinux('data directory LOCK', () => {
  let dir: string;
  const bystanders: Array<{ child: ChildProcess; exited: Promise<void> }> = [];

  beforeEach(async () => {
    dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'embedded-mongo-lock-'));
  });

  afterEach(async () => {
    for (const b of bystanders.splice(0)) {
      b.child.kill('SIGKILL');
      await b.exited;
    }
    await fsp.rm(dir, { recursive: true, force: true });
  });

  it('names the holder by pid and start time', async () => {
    const db = await start({ port: 0, dataDir: dir, quiet: true });
    try {
      const text = await fsp.readFile(path.join(dir, LOCK_FILE), 'utf8');
      expect(text.trim()).toBe(`${process.pid} ${processStartTicks(process.pid)!.ticks}`);
    } finally {
      await db.stop();
    }
    await expect(fsp.stat(path.join(dir, LOCK_FILE))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('starts after kill -9 although the LOCK names a live unrelated process, with every acknowledged write', async () => {
    const first = await spawnServer(dir);
    const childPid = first.child.pid!;
    const childTicks = processStartTicks(childPid)!.ticks;
    const client = await MongoClient.connect(first.uri, { retryWrites: false });
    const acked: number[] = [];
    for (let i = 0; i < 200; i++) {
      await client
        .db('lock')
        .collection('docs')
        .insertOne({ _id: i as never, pad: 'x'.repeat(100) });
      acked.push(i);
    }
    first.child.kill('SIGKILL');
    await first.exited;
    await client.close(true).catch(() => undefined);

    // The pid was reused by another process: the LOCK names it, with the dead server's start time.
    const bystander = spawnBystander();
    bystanders.push(bystander);
    await fsp.writeFile(path.join(dir, LOCK_FILE), `${bystander.child.pid} ${childTicks}\n`);
    const second = await start({ port: 0, dataDir: dir, quiet: true });
    try {
      const c2 = await MongoClient.connect(second.uri);
      const ids = (await c2.db('lock').collection('docs').find().project({ _id: 1 }).toArray()).map((d) => d._id);
      expect(ids).toEqual(acked);
      await c2.close();
    } finally {
      await second.stop();
    }
    expect(childPid).toBeGreaterThan(0);
  });

  it('treats a pid-only LOCK (older versions) as stale when that pid started after the LOCK was written', async () => {
    const db = await start({ port: 0, dataDir: dir, quiet: true });
    await db.stop();
    const bystander = spawnBystander();
    bystanders.push(bystander);
    const file = path.join(dir, LOCK_FILE);
    await fsp.writeFile(file, `${bystander.child.pid}\n`);
    const past = new Date(Date.now() - 3600_000);
    await fsp.utimes(file, past, past);
    const again = await start({ port: 0, dataDir: dir, quiet: true });
    await again.stop();
  });

  it('refuses a directory whose holder is alive, naming it', async () => {
    const bystander = spawnBystander();
    bystanders.push(bystander);
    const pid = bystander.child.pid!;
    const ticks = processStartTicks(pid)!.ticks;
    await fsp.writeFile(path.join(dir, LOCK_FILE), `${pid} ${ticks}\n`);
    await expect(start({ port: 0, dataDir: dir, quiet: true })).rejects.toThrow(`in use by process ${pid}`);
    // A zombie or a gone holder does not keep the directory shut.
    bystander.child.kill('SIGKILL');
    await bystander.exited;
    const db = await start({ port: 0, dataDir: dir, quiet: true });
    await db.stop();
  });
});
