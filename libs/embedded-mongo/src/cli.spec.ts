import { spawn } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MongoClient } from 'mongodb';
import { parseArgs } from './cli';

jest.setTimeout(60_000);

describe('embedded-mongo CLI', () => {
  it('parses its arguments', () => {
    expect(parseArgs([])).toEqual({ port: 27017 });
    expect(parseArgs(['--port', '0', '--data', './d', '--quiet'])).toEqual({ port: 0, dataDir: './d', quiet: true });
    expect(parseArgs(['--port=1234', '--host=127.0.0.1', '--dbpath=x'])).toEqual({
      port: 1234,
      host: '127.0.0.1',
      dataDir: 'x',
    });
    expect(() => parseArgs(['--port', 'abc'])).toThrow(/invalid port/);
    expect(() => parseArgs(['--port'])).toThrow(/needs a value/);
    expect(() => parseArgs(['--nope'])).toThrow(/unknown argument/);
  });

  it('prints its URI, serves, and stops cleanly on SIGTERM', async () => {
    const root = path.resolve(__dirname, '../../..');
    const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'embedded-mongo-cli-'));
    const child = spawn(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', path.join(__dirname, 'cli.ts'), '--port', '0', '--data', dir],
      {
        cwd: root,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, TS_NODE_PROJECT: path.join(root, 'tsconfig.json') },
      },
    );
    let out = '';
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const uri = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /(mongodb:\/\/127\.0\.0\.1:\d+)/.exec(out);
          if (m) resolve(m[1]);
        });
        child.once('exit', (code) => reject(new Error(`cli exited early (${code}): ${out}`)));
      });
      const client = await MongoClient.connect(uri);
      await client.db('cli').collection('c').insertOne({ a: 1 });
      await client.close();
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(out).toContain('stopped');
      expect(await fsp.readdir(dir)).not.toContain('LOCK');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await fsp.rm(dir, { recursive: true, force: true });
    }
  });
});
