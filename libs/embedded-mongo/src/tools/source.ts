/**
 * Where the database tools read from: an explicit URI, or a data directory — through the socket of
 * the server that holds it, or, when none does, by opening it in this process.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { launch, socketUri, SOCKET_NAME } from '../launcher';
import { lockHolder } from '../lock';

export interface Source {
  uri: string;
  /** How the source was reached, for the tool's first line. */
  describe: string;
  close(): Promise<void>;
}

export async function openSource(opts: { from?: string; dataDir: string }): Promise<Source> {
  if (opts.from) return { uri: opts.from, describe: opts.from, close: () => Promise.resolve() };
  const dir = path.resolve(opts.dataDir);
  const holder = await lockHolder(dir);
  if (holder !== undefined) {
    const socket = path.join(dir, SOCKET_NAME);
    const isSocket = await fsp.stat(socket).then(
      (st) => st.isSocket(),
      () => false,
    );
    if (!isSocket) {
      throw new Error(
        `data directory ${dir} is in use by process ${holder} without a socket in it: pass --from <its uri>`,
      );
    }
    return {
      uri: socketUri(socket),
      describe: `the server running on ${dir} (process ${holder})`,
      close: () => Promise.resolve(),
    };
  }
  try {
    await fsp.access(path.join(dir, 'snapshot.bson')).catch(async () => {
      const names = await fsp.readdir(dir);
      if (!names.some((n) => n.startsWith('journal.'))) throw new Error('empty');
    });
  } catch {
    throw new Error(`no embedded database data in ${dir} (pass --data <dir> or --from <uri>)`);
  }
  const server = await launch({ dataDir: dir, socketPath: true, quiet: true });
  return { uri: server.uri, describe: `data directory ${dir} (opened by this tool)`, close: () => server.stop() };
}

/** Reads `--flag value` / `--flag=value` arguments; unknown flags are an error. */
export function parseFlags(
  argv: string[],
  known: Record<string, 'value' | 'bool'>,
  usage: string,
): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const eq = arg.indexOf('=');
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const kind = known[flag];
    if (!kind) throw new Error(`unknown argument ${arg}\n${usage}`);
    if (kind === 'bool') {
      out.set(flag, 'true');
      continue;
    }
    const v = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    if (v === undefined) throw new Error(`${flag} needs a value\n${usage}`);
    out.set(flag, v);
  }
  return out;
}

export function defaultDbName(env: NodeJS.ProcessEnv = process.env): string {
  return env.EMBEDDED_DB_NAME?.trim() || 'timmy';
}

/** Runs a tool's main, printing a one-line error and exiting non-zero on failure. */
export function runTool(name: string, main: () => Promise<void>): void {
  main().catch((e: unknown) => {
    console.error(`${name}: ${e instanceof Error ? e.message : String(e)}`);
    process.exitCode = 1;
  });
}
