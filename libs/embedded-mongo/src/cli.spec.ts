import { spawn } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MongoClient } from 'mongodb';
import { parseArgs } from './cli';

jest.setTimeout(60_000);

describe('embedded-mongo CLI', () => {
  it('parses its arguments', () => {
    expect(parseArgs([], {})).toEqual({ socketPath: true, dataDir: path.resolve('data/db') });
    expect(parseArgs([], { DATA_DIR: '/srv/timmy' })).toEqual({ socketPath: true, dataDir: '/srv/timmy/db' });
    expect(parseArgs(['--port', '0', '--data', './d', '--quiet'], {})).toEqual({
      socketPath: true,
      port: 0,
      dataDir: './d',
      quiet: true,
    });
    expect(parseArgs(['--port=1234', '--host=127.0.0.1', '--dbpath=x'], {})).toEqual({
      socketPath: true,
      port: 1234,
      host: '127.0.0.1',
      dataDir: 'x',
    });
    expect(parseArgs(['--memory', '--max-memory', '512MB'], {})).toEqual({
      socketPath: true,
      maxMemoryBytes: 512 * 1048576,
    });
    expect(parseArgs(['--memory'], { EMBEDDED_DB_MAX_MEMORY: '1g' }).maxMemoryBytes).toBe(1073741824);
    expect(() => parseArgs(['--memory', '--data', 'x'])).toThrow(/exclude/);
    expect(() => parseArgs(['--max-memory', 'lots'])).toThrow(/invalid --max-memory/);
    expect(() => parseArgs(['--port', 'abc'])).toThrow(/invalid port/);
    expect(() => parseArgs(['--port'])).toThrow(/needs a value/);
    expect(() => parseArgs(['--nope'])).toThrow(/unknown argument/);
  });

  it('by default serves its data directory on a private Unix socket only', async () => {
    const root = path.resolve(__dirname, '../../..');
    const dataRoot = await fsp.mkdtemp(path.join(os.tmpdir(), 'embedded-mongo-cli-'));
    const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', path.join(__dirname, 'cli.ts')], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, DATA_DIR: dataRoot, TS_NODE_PROJECT: path.join(root, 'tsconfig.json') },
    });
    let out = '';
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const uri = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /listening: (mongodb:\/\/\S+)/.exec(out);
          if (m) resolve(m[1]);
        });
        child.once('exit', (code) => reject(new Error(`cli exited early (${code}): ${out}`)));
      });
      const socket = path.join(dataRoot, 'db', 'mongod.sock');
      expect(uri).toBe(`mongodb://${encodeURIComponent(socket)}`);
      expect(out).not.toMatch(/127\.0\.0\.1/);
      expect((await fsp.stat(path.join(dataRoot, 'db'))).mode & 0o777).toBe(0o700);
      expect((await fsp.stat(socket)).isSocket()).toBe(true);
      const client = await MongoClient.connect(uri);
      await client.db('cli').collection('c').insertOne({ a: 1 });
      expect(await client.db('cli').collection('c').countDocuments()).toBe(1);
      await client.close();
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(await fsp.readdir(path.join(dataRoot, 'db'))).not.toContain('mongod.sock');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await fsp.rm(dataRoot, { recursive: true, force: true });
    }
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
          const m = /also on (mongodb:\/\/127\.0\.0\.1:\d+)/.exec(out);
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
