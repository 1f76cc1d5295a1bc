import { type ChildProcess, spawn } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MongoClient } from 'mongodb';

jest.setTimeout(120_000);

const ROOT = path.resolve(__dirname, '../../..');
const CHILD = path.join(__dirname, 'testing', 'crash-child.ts');
const ROUNDS = 4;
const WRITERS = 8;
// Small, so compactions happen (and get killed) during the rounds.
const COMPACT_BYTES = 48 * 1024;

interface Running {
  child: ChildProcess;
  uri: string;
  exited: Promise<void>;
}

function spawnServer(dir: string): Promise<Running> {
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', CHILD, dir, String(COMPACT_BYTES)], {
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

describe('crash safety (SIGKILL at random points)', () => {
  let dir: string;
  let running: Running | undefined;

  beforeAll(async () => {
    dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'embedded-mongo-crash-'));
  });

  afterAll(async () => {
    if (running && running.child.exitCode === null) {
      running.child.kill('SIGKILL');
      await running.exited;
    }
    await fsp.rm(dir, { recursive: true, force: true });
  });

  it('never loses an acknowledged write and always reopens', async () => {
    const acked = new Set<string>();
    let ackedIncrements = 0;
    let seed = 987654321;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };

    for (let round = 0; round <= ROUNDS; round++) {
      running = await spawnServer(dir);
      const client = await MongoClient.connect(running.uri, {
        serverSelectionTimeoutMS: 10_000,
        retryWrites: false,
        maxPoolSize: WRITERS,
      });
      const docs = client.db('crash').collection('docs');
      const meta = client.db('crash').collection('meta');

      // Everything acknowledged before the previous kill is there.
      const present = new Set((await docs.find({}, { projection: { _id: 1 } }).toArray()).map((d) => String(d._id)));
      const missing = [...acked].filter((id) => !present.has(id));
      expect(missing).toEqual([]);
      const counter = await meta.findOne({ _id: 'counter' as never });
      expect(counter?.n ?? 0).toBeGreaterThanOrEqual(ackedIncrements);
      if (round > 0) {
        expect((await docs.listIndexes().toArray()).map((i) => i.name)).toContain('w_1_i_1_round_1');
        await expect(docs.insertOne({ _id: [...acked][0] as never })).rejects.toMatchObject({ code: 11000 });
      } else {
        await docs.createIndex({ w: 1, i: 1, round: 1 }, { unique: true });
      }

      if (round === ROUNDS) {
        await client.close();
        running.child.kill('SIGTERM');
        await running.exited;
        break;
      }

      const killAfter = 100 + rand(700);
      let ackedThisRound = 0;
      let killed = false;
      const child = running.child;
      const kill = (): void => {
        if (killed) return;
        killed = true;
        child.kill('SIGKILL');
      };
      const writer = async (w: number): Promise<void> => {
        for (let i = 0; !killed; i++) {
          const id = `${round}-${w}-${i}`;
          try {
            await docs.insertOne({ _id: id as never, round, w, i, pad: 'p'.repeat(rand(400)) });
            acked.add(id);
            if (i % 5 === 0) {
              await meta.updateOne({ _id: 'counter' as never }, { $inc: { n: 1 } }, { upsert: true });
              ackedIncrements++;
            }
          } catch {
            return;
          }
          if (++ackedThisRound >= killAfter) kill();
        }
      };
      await Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(w)));
      kill();
      await running.exited;
      await client.close(true).catch(() => undefined);
      expect(ackedThisRound).toBeGreaterThanOrEqual(killAfter);
    }
    expect(acked.size).toBeGreaterThan(ROUNDS * 100);
    // The rounds wrote enough for compactions to have run (and some to have been killed).
    expect(await fsp.readdir(dir)).toContain('snapshot.bson');
  });
});
