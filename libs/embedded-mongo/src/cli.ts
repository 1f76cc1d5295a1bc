/**
 * Standalone embedded MongoDB-compatible server, so several app processes (and tools) can share one:
 *   npm run db                          # data in $DATA_DIR/db (./data/db), Unix socket inside it
 *   npm run db -- --port 27017          # also on loopback TCP, for tools
 *   npm run db -- --memory              # nothing on disk
 * It prints the URI to connect with (a percent-encoded socket path, or TCP).
 */
import * as path from 'node:path';
import { start, type EmbeddedMongoOptions } from './index';
import { parseSize } from './memory-budget';

const USAGE =
  'usage: embedded-mongo [--data <dir> | --memory] [--port <n>] [--host <addr>] [--socket <path>] [--max-memory <size>] [--quiet]';

/** The app's data directory for the database: $DATA_DIR/db (DATA_DIR defaults to ./data). */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.DATA_DIR?.trim() || './data';
  return path.resolve(base, 'db');
}

export function parseArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): EmbeddedMongoOptions {
  const opts: EmbeddedMongoOptions = { socketPath: true };
  let memory = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [flag, inline] = arg.includes('=')
      ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)]
      : [arg, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value\n${USAGE}`);
      return v;
    };
    switch (flag) {
      case '--port': {
        const p = Number(value());
        if (!Number.isInteger(p) || p < 0 || p > 65535) throw new Error(`invalid port\n${USAGE}`);
        opts.port = p;
        break;
      }
      case '--host':
        opts.host = value();
        break;
      case '--data':
      case '--dbpath':
        opts.dataDir = value();
        break;
      case '--memory':
        memory = true;
        break;
      case '--socket':
        opts.socketPath = value();
        break;
      case '--max-memory': {
        const v = value();
        const bytes = parseSize(v);
        if (bytes === undefined || bytes <= 0) throw new Error(`invalid --max-memory ${v} (e.g. 512MB, 2GB)\n${USAGE}`);
        opts.maxMemoryBytes = bytes;
        break;
      }
      case '--quiet':
        opts.quiet = true;
        break;
      default:
        throw new Error(`unknown argument ${arg}\n${USAGE}`);
    }
  }
  if (memory && opts.dataDir) throw new Error(`--memory and --data exclude each other\n${USAGE}`);
  if (!memory) opts.dataDir ??= defaultDataDir(env);
  if (opts.maxMemoryBytes === undefined && env.EMBEDDED_DB_MAX_MEMORY?.trim()) {
    const bytes = parseSize(env.EMBEDDED_DB_MAX_MEMORY);
    if (bytes === undefined || bytes <= 0)
      throw new Error(`invalid EMBEDDED_DB_MAX_MEMORY ${env.EMBEDDED_DB_MAX_MEMORY}`);
    opts.maxMemoryBytes = bytes;
  }
  return opts;
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const server = await start(opts);
  const where = opts.dataDir ? `data in ${opts.dataDir}` : 'in memory';
  console.log(`embedded-mongo listening: ${server.uri} (${where})`);
  if (server.tcpUri && server.socketPath) {
    console.log(
      `embedded-mongo also on ${server.tcpUri}: any local user can read and write every database there (no authentication)`,
    );
  }
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    console.log(`embedded-mongo: ${signal} received, stopping`);
    server.stop().then(
      () => console.log('embedded-mongo: stopped'),
      (e: unknown) => {
        console.error('embedded-mongo: stop failed', e);
        process.exitCode = 1;
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

if (require.main === module) {
  main().catch((e: unknown) => {
    console.error(`embedded-mongo: ${e instanceof Error ? e.message : String(e)}`);
    process.exitCode = 1;
  });
}
