/**
 * Standalone embedded MongoDB-compatible server, so several app processes can share one:
 *   npm run db -- --port 27017 --data ./data/db
 * Without --data it keeps everything in memory.
 */
import { start, type EmbeddedMongoOptions } from './index';

const USAGE = 'usage: embedded-mongo [--port <n>] [--host <addr>] [--data <dir>] [--quiet]';

export function parseArgs(argv: string[]): EmbeddedMongoOptions {
  const opts: EmbeddedMongoOptions = { port: 27017 };
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
      case '--quiet':
        opts.quiet = true;
        break;
      default:
        throw new Error(`unknown argument ${arg}\n${USAGE}`);
    }
  }
  return opts;
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const server = await start(opts);
  console.log(`embedded-mongo listening: ${server.uri}${opts.dataDir ? ` (data in ${opts.dataDir})` : ' (in memory)'}`);
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
    console.error(e instanceof Error ? e.message : e);
    process.exitCode = 1;
  });
}
