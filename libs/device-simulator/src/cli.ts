/**
 * Runs virtual terminals against a gateway for demos and manual tests:
 *   npm run simulate -- --sn ZXRE06022863 --users 200 --server ws://127.0.0.1:9091
 */
import { enrolNewUserAtKeypad } from './keypad';
import type { TerminalQuirks } from './terminal-store';
import { VirtualTerminal } from './virtual-terminal';

export interface CliOptions {
  sn: string;
  users: number;
  server: string;
  path: string;
  count: number;
  punchEverySec: number;
  enrolEverySec: number;
  replyDelayMs: number;
  resendUnackedMs: number;
  autoReconnect: boolean;
  timeZone: string;
  quirks: TerminalQuirks;
  help: boolean;
}

const USAGE = `Usage: npm run simulate -- [options]
  --sn <serial>          terminal serial number (default ZXRE06022863)
  --users <n>            users to generate on each terminal (default 0)
  --server <url>         gateway URL (default ws://127.0.0.1:9091)
  --path <path>          URL path when --server has none (default /pub/chat)
  --count <n>            run n terminals; serials get a 3-digit suffix (default 1)
  --punch-every <s>      send a random punch from each terminal every s seconds (default off)
  --enrol-every <s>      every s seconds one terminal (in turn) enrols a new person at its keypad and
                         pushes the user with senduser (shows group propagation; default off)
  --reply-delay <ms>     answer every command after ms milliseconds (default 0)
  --resend-unacked <ms>  resend an unacknowledged sendlog after ms (default 20000)
  --time-zone <tz>       zone of the terminal clock before the server sets it (default UTC)
  --no-reconnect         exit instead of reconnecting when the connection drops
  --quirk <name[=n]>     behave like a unit in the field (repeatable): long-ids (12-digit ids),
                         bad-record (a "0000-00-00" record in each frame), count-page-size[=10],
                         ignore-getnewlog, send-name, clock-ahead[=days, default 1095]
  --help                 show this text`;

export class CliUsageError extends Error {}

function numberArg(name: string, raw: string | undefined, min: number): number {
  const n = Number(raw);
  if (raw === undefined || raw.trim() === '' || !Number.isFinite(n) || n < min) {
    throw new CliUsageError(`--${name} needs a number >= ${min} (got ${raw ?? 'nothing'})`);
  }
  return n;
}

export function parseCliArgs(argv: string[]): CliOptions {
  const opts: CliOptions = {
    sn: 'ZXRE06022863',
    users: 0,
    server: 'ws://127.0.0.1:9091',
    path: '/pub/chat',
    count: 1,
    punchEverySec: 0,
    enrolEverySec: 0,
    replyDelayMs: 0,
    resendUnackedMs: 20_000,
    autoReconnect: true,
    timeZone: 'UTC',
    quirks: {},
    help: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split(/=(.*)/s, 2);
    const value = (): string | undefined => inline ?? argv[++i];
    switch (flag) {
      case '--sn': {
        const sn = value();
        if (!sn || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,60}$/.test(sn))
          throw new CliUsageError('--sn needs a serial number (letters, digits, . _ -)');
        opts.sn = sn;
        break;
      }
      case '--users':
        opts.users = Math.floor(numberArg('users', value(), 0));
        break;
      case '--server':
        opts.server = value() ?? '';
        break;
      case '--path':
        opts.path = value() ?? '';
        break;
      case '--count':
        opts.count = Math.floor(numberArg('count', value(), 1));
        break;
      case '--punch-every':
        opts.punchEverySec = numberArg('punch-every', value(), 0);
        break;
      case '--enrol-every':
        opts.enrolEverySec = numberArg('enrol-every', value(), 0);
        break;
      case '--reply-delay':
        opts.replyDelayMs = numberArg('reply-delay', value(), 0);
        break;
      case '--resend-unacked':
        opts.resendUnackedMs = numberArg('resend-unacked', value(), 100);
        break;
      case '--time-zone':
        opts.timeZone = value() ?? '';
        break;
      case '--quirk':
        addQuirk(opts.quirks, value());
        break;
      case '--no-reconnect':
        opts.autoReconnect = false;
        break;
      case '--help':
      case '-h':
        opts.help = true;
        break;
      default:
        throw new CliUsageError(`unknown option ${flag}`);
    }
  }
  let url: URL;
  try {
    url = new URL(opts.server);
  } catch {
    throw new CliUsageError(`--server is not a URL: ${opts.server}`);
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:')
    throw new CliUsageError('--server must start with ws:// or wss://');
  if (url.pathname === '/' && opts.path) url.pathname = opts.path.startsWith('/') ? opts.path : `/${opts.path}`;
  opts.server = url.toString();
  return opts;
}

function addQuirk(quirks: TerminalQuirks, raw: string | undefined): void {
  const [name, arg] = (raw ?? '').split('=', 2);
  switch (name) {
    case 'long-ids':
      quirks.firstEnrollId = 123_456_789_012;
      return;
    case 'bad-record':
      quirks.badRecordInFrames = true;
      return;
    case 'count-page-size':
      quirks.countIsPageSize = arg === undefined ? 10 : Math.floor(numberArg('quirk count-page-size', arg, 1));
      return;
    case 'ignore-getnewlog':
      quirks.ignoresGetnewlog = true;
      return;
    case 'send-name':
      quirks.sendsName = true;
      return;
    case 'clock-ahead':
      quirks.clockAheadMs = (arg === undefined ? 1095 : numberArg('quirk clock-ahead', arg, 0)) * 86_400_000;
      return;
    default:
      throw new CliUsageError(`unknown --quirk ${raw ?? ''}`);
  }
}

export function serialNumbers(sn: string, count: number): string[] {
  if (count <= 1) return [sn];
  return Array.from({ length: count }, (_, i) => `${sn}${String(i + 1).padStart(3, '0')}`);
}

function statusLine(terminals: VirtualTerminal[]): string {
  const sum = (f: (t: VirtualTerminal) => number): number => terminals.reduce((acc, t) => acc + f(t), 0);
  return (
    `[sim] ${terminals.length} terminal(s) | connected ${sum((t) => (t.connected ? 1 : 0))}` +
    ` | registered ${sum((t) => (t.registered ? 1 : 0))}` +
    ` | commands ${sum((t) => t.stats.commandsAnswered)} answered / ${sum((t) => t.stats.commandsReceived)} received` +
    ` | logs sent ${sum((t) => t.stats.logsSent)} acked ${sum((t) => t.stats.logsAcked)}` +
    ` | users ${sum((t) => t.users.size)}`
  );
}

export async function runCli(argv: string[]): Promise<number> {
  let opts: CliOptions;
  try {
    opts = parseCliArgs(argv);
  } catch (err) {
    if (!(err instanceof CliUsageError)) throw err;
    console.error(`${err.message}\n\n${USAGE}`);
    return 2;
  }
  if (opts.help) {
    console.log(USAGE);
    return 0;
  }

  const tty = process.stdout.isTTY === true;
  let lastStatus = '';
  const log = (line: string): void => {
    if (tty && lastStatus) process.stdout.write('\r\x1b[2K');
    console.log(line);
    lastStatus = '';
  };
  const verbose = opts.count <= 5;

  const terminals = serialNumbers(opts.sn, opts.count).map(
    (sn) =>
      new VirtualTerminal({
        sn,
        url: opts.server,
        users: opts.users,
        autoReconnect: opts.autoReconnect,
        reconnectDelayMs: 2000,
        replyDelayMs: opts.replyDelayMs,
        resendUnackedAfterMs: opts.resendUnackedMs,
        timeZone: opts.timeZone,
        quirks: opts.quirks,
      }),
  );
  let stopping = false;
  let resolveDone!: (code: number) => void;
  const done = new Promise<number>((resolve) => (resolveDone = resolve));

  for (const t of terminals) {
    t.on('registered', () => verbose && log(`[sim] ${t.sn} registered`));
    t.on('rejected', (reason: string) => log(`[sim] ${t.sn} refused by the server: ${reason}`));
    t.on('rebooting', () => verbose && log(`[sim] ${t.sn} rebooting (asked by the server)`));
    t.on('disconnected', (e: { code: number; reason: string }) => {
      if (verbose && !stopping) log(`[sim] ${t.sn} disconnected (${e.code}${e.reason ? ` ${e.reason}` : ''})`);
      if (!opts.autoReconnect && !stopping && terminals.every((x) => !x.connected)) resolveDone(1);
    });
    t.on('warning', (e: Error) => verbose && !stopping && log(`[sim] ${t.sn} ${e.message}`));
    t.connect().catch((err: Error) => log(`[sim] ${t.sn} ${err.message}`));
  }
  log(`[sim] ${terminals.length} terminal(s) -> ${opts.server} (${opts.users} users each); Ctrl+C to stop`);

  const statusTimer = setInterval(
    () => {
      const line = statusLine(terminals);
      if (tty) {
        process.stdout.write(`\r\x1b[2K${line}`);
        lastStatus = line;
      } else if (line !== lastStatus) {
        console.log(line);
        lastStatus = line;
      }
    },
    tty ? 1000 : 10_000,
  );
  const punchTimer =
    opts.punchEverySec > 0
      ? setInterval(() => {
          for (const t of terminals) {
            if (t.registered && t.users.size > 0) t.punch().catch(() => undefined);
          }
        }, opts.punchEverySec * 1000)
      : undefined;

  let enrolTurn = 0;
  const enrolTimer =
    opts.enrolEverySec > 0
      ? setInterval(() => {
          const t = terminals[enrolTurn++ % terminals.length];
          if (!t.registered) return;
          enrolNewUserAtKeypad(t, { firstId: 100_000 })
            .then((u) => log(`[sim] ${t.sn} keypad enrolment of ${u.enrollid} (${u.credentials.length} credential(s))`))
            .catch((err: Error) => log(`[sim] ${t.sn} keypad enrolment failed: ${err.message}`));
        }, opts.enrolEverySec * 1000)
      : undefined;

  const stop = (): void => {
    if (stopping) {
      process.exit(130);
    }
    stopping = true;
    resolveDone(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);

  const code = await done;
  stopping = true;
  clearInterval(statusTimer);
  clearInterval(punchTimer);
  clearInterval(enrolTimer);
  await Promise.allSettled(terminals.map((t) => t.close()));
  log(statusLine(terminals));
  log('[sim] stopped');
  process.off('SIGINT', stop);
  process.off('SIGTERM', stop);
  return code;
}

if (require.main === module) {
  runCli(process.argv.slice(2))
    .then((code) => process.exit(code))
    .catch((err: unknown) => {
      console.error(err);
      process.exit(1);
    });
}
