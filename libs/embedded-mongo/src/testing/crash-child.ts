/**
 * Child process for the crash test: serves a data directory until it is killed.
 * Usage: node -r ts-node/register/transpile-only crash-child.ts <dataDir> <compactBytes>
 */
import { launch } from '../launcher';

const [dataDir, compactBytes] = process.argv.slice(2);
launch({ port: 0, dataDir, quiet: true }, { compactBytes: Number(compactBytes) || undefined }).then(
  (server) => {
    process.stdout.write(`URI ${server.uri}\n`);
    process.on('SIGTERM', () => void server.stop());
  },
  (e: unknown) => {
    process.stderr.write(`failed to start: ${e instanceof Error ? e.stack : String(e)}\n`);
    process.exitCode = 1;
  },
);
