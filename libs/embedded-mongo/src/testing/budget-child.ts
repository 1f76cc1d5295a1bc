/**
 * Child process for the memory-budget test: serves a data directory with a budget of the memory
 * it already uses plus `headroomMb`, and prints its URI and budget.
 * Usage: node -r ts-node/register/transpile-only budget-child.ts <dataDir> <headroomMb>
 */
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { launch } from '../launcher';

const [dataDir, headroomMb] = process.argv.slice(2);
v8.setFlagsFromString('--expose-gc');
(vm.runInNewContext('gc') as () => void)();
const m = process.memoryUsage();
const limit = m.heapUsed + m.arrayBuffers + Number(headroomMb) * 1048576;
launch({ port: 0, dataDir, maxMemoryBytes: limit, log: (msg) => process.stderr.write(`${msg}\n`) }).then(
  (server) => {
    process.stdout.write(`URI ${server.uri} LIMIT ${server.budget.limitBytes}\n`);
    process.on('SIGTERM', () => void server.stop());
  },
  (e: unknown) => {
    process.stderr.write(`failed to start: ${e instanceof Error ? e.stack : String(e)}\n`);
    process.exitCode = 1;
  },
);
