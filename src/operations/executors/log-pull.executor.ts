import { Inject, Injectable, Logger } from '@nestjs/common';
import { buildCommand, Json, LogRecord, logListDone, parseCommandReply, ProtocolError } from '@app/device-protocol';
import {
  PulledLogSource,
  TERMINAL_DIRECTORY,
  TERMINAL_LOG_STORE,
  TerminalDirectory,
  TerminalLogStore,
} from '../operation-ports';
import { deviceError, ExecutionContext, ExecutionResult, OperationExecutor, OperationSpec } from './operation-executor';
import { describeError } from '@app/common';

/** 50 records a page: 100 000 pages is far beyond any terminal's log memory. */
export const MAX_LOG_PAGES = 100_000;

interface PullTotals {
  received: number;
  stored: number;
  duplicates: number;
  doorEvents: number;
  photosDropped: number;
  rejected: { enrollid: number; time: string; reason: string }[];
}

/** The store's "this record cannot be stored" error, naming the record. */
function invalidRecordIndex(err: unknown): number | undefined {
  if (!(err instanceof Error) || !/Invalid(LogRecord|Punch)Error/.test(err.name)) return undefined;
  const index = (err as { index?: unknown }).index;
  return typeof index === 'number' && Number.isInteger(index) ? index : undefined;
}

/**
 * `getnewlog` / `getalllog`: pages until the terminal has sent every record; each page is stored
 * before the next is asked for, so a retry after a timeout restarts from the first page without
 * creating duplicates (the stores deduplicate).
 */
@Injectable()
export class LogPullExecutor implements OperationExecutor {
  private readonly logger = new Logger('LogPullExecutor');

  constructor(
    @Inject(TERMINAL_DIRECTORY) private readonly terminals: TerminalDirectory,
    @Inject(TERMINAL_LOG_STORE) private readonly logs: TerminalLogStore,
  ) {}

  validate(spec: OperationSpec): string | undefined {
    try {
      buildCommand(spec.type, spec.payload);
      return undefined;
    } catch (err) {
      if (err instanceof ProtocolError) return err.message;
      throw err;
    }
  }

  async execute(ctx: ExecutionContext): Promise<ExecutionResult> {
    const source = ctx.op.type as PulledLogSource;
    const terminal = await this.terminals.context(ctx.sn);
    const totals: PullTotals = { received: 0, stored: 0, duplicates: 0, doorEvents: 0, photosDropped: 0, rejected: [] };
    let pages = 0;
    let count: number | undefined;
    const summary = (): Json => ({
      ret: source,
      result: true,
      count: count ?? totals.received,
      pages,
      ...totals,
    });
    for (let stn = true; ; stn = false) {
      // The date filter of getalllog belongs to the first request; later pages just say stn:false.
      const payload: Json = stn ? { ...ctx.op.payload, stn: true } : { stn: false };
      const { reply } = await ctx.exchange(source, payload, ctx.pageTimeoutMs);
      const parsed = parseCommandReply(source, reply);
      if (!parsed.ok) return { status: 'failed', lastError: `invalid_reply: ${parsed.reason}`, response: summary() };
      if (!parsed.value.success) {
        return { status: 'failed', lastError: deviceError(parsed.value.reason), response: summary() };
      }
      pages++;
      const packet = parsed.value.data;
      count = packet.count ?? count;
      totals.received += packet.records.length;
      await this.storePage(ctx.sn, source, terminal, packet.records, totals);
      if (logListDone(totals.received, packet)) break;
      if (pages >= MAX_LOG_PAGES) {
        return { status: 'failed', lastError: `invalid_reply: more than ${MAX_LOG_PAGES} pages`, response: summary() };
      }
    }
    return { status: 'success', response: summary() };
  }

  /** A record the log cannot take (an impossible time) is reported and skipped; the rest is stored. */
  private async storePage(
    sn: string,
    source: PulledLogSource,
    terminal: { timeZone: string; name?: string },
    records: LogRecord[],
    totals: PullTotals,
  ): Promise<void> {
    let remaining = records;
    while (remaining.length > 0) {
      try {
        const res = await this.logs.ingest(remaining, {
          sn,
          source,
          timeZone: terminal.timeZone,
          ...(terminal.name ? { deviceName: terminal.name } : {}),
        });
        totals.stored += res.punches.stored;
        totals.duplicates += res.punches.duplicates + res.doorEvents.duplicates;
        totals.doorEvents += res.doorEvents.stored;
        totals.photosDropped += res.photosDropped;
        return;
      } catch (err) {
        const index = invalidRecordIndex(err);
        if (index === undefined || index < 0 || index >= remaining.length) throw err;
        const bad = remaining[index];
        const reason = describeError(err);
        totals.rejected.push({ enrollid: bad.enrollid, time: bad.time, reason });
        this.logger.warn(`${source} from ${sn}: record skipped (${reason})`);
        remaining = remaining.filter((_, i) => i !== index);
      }
    }
  }
}
