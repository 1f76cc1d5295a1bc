/**
 * Preloaded into the product (`--require dist/bench/tools/db-command-counter.js`) by db-commands.ts:
 * counts the database commands the driver sends, by command and collection, and prints the counts
 * (then resets them) on SIGUSR1. Profiling only: it wraps an internal method of the mongodb driver.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports -- an internal module of the driver, untyped
const { Connection } = require('mongodb/lib/cmap/connection') as { Connection: { prototype: object } };

const counts: Record<string, number> = {};
type CommandFn = (this: unknown, ns: unknown, cmd: Record<string, unknown>, ...rest: unknown[]) => unknown;
const proto = Connection.prototype as unknown as { command: CommandFn };
const original = proto.command;
proto.command = function (this: unknown, ns: unknown, cmd: Record<string, unknown>, ...rest: unknown[]) {
  const name = Object.keys(cmd)[0] ?? '?';
  const target = typeof cmd[name] === 'string' ? cmd[name] : '';
  const key = `${name}:${target}`;
  counts[key] = (counts[key] ?? 0) + 1;
  return original.call(this, ns, cmd, ...rest);
};

process.on('SIGUSR1', () => {
  console.log(`DBCOUNTS ${JSON.stringify(counts)}`);
  for (const k of Object.keys(counts)) delete counts[k];
});
