import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  buildCommand,
  Json,
  LogPaging,
  logRecordKey,
  LogRecord,
  parseCommandReply,
  ProtocolError,
  RejectedLogRecord,
} from '@app/device-protocol';
import { ExchangeTimeoutError } from '../operation-errors';
import {
  PulledLogSource,
  TERMINAL_DIRECTORY,
  TERMINAL_LOG_STORE,
  TerminalDirectory,
  TerminalLogStore,
} from '../operation-ports';
import { deviceError, ExecutionContext, ExecutionResult, OperationExecutor, OperationSpec } from './operation-executor';

/** 50 records a page: 100 000 pages is far beyond any terminal's log memory. */
export const MAX_LOG_PAGES = 100_000;

interface PullTotals {
  stored: number;
  duplicates: number;
  doorEvents: number;
  photosDropped: number;
  rejected: number;
}

/**
 * `getnewlog` / `getalllog`: pages until the terminal has sent every record (LogPaging: `count`
 * is not trusted alone). Each page is stored before the next is asked for, so a retry after a
 * timeout restarts from the first page without creating duplicates (the stores deduplicate). A
 * read cut short by a timeout after data arrived fails, with what arrived stored and counted.
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
    const totals: PullTotals = { stored: 0, duplicates: 0, doorEvents: 0, photosDropped: 0, rejected: 0 };
    const paging = new LogPaging();
    const summary = (ended: string): Json => ({
      ret: source,
      result: true,
      count: paging.reportedTotal ?? paging.received,
      received: paging.received,
      records: paging.received,
      pages: paging.pages,
      ended,
      ...totals,
    });
    for (let stn = true; ; stn = false) {
      // The date filter of getalllog belongs to the first request; later pages just say stn:false.
      const payload: Json = stn ? { ...ctx.op.payload, stn: true } : { stn: false };
      let reply: Json;
      try {
        ({ reply } = await ctx.exchange(source, payload, ctx.pageTimeoutMs));
      } catch (err) {
        // No answer to the first page: the dispatcher retries the whole read (or fails it).
        if (!(err instanceof ExchangeTimeoutError) || paging.pages === 0) throw err;
        if (paging.timeoutIsComplete) return { status: 'success', response: summary('no_answer_after_total') };
        const lastError =
          `device_timeout: page ${paging.pages + 1} not answered within ${err.timeoutMs} ms; ` +
          `${paging.received} records in ${paging.pages} pages received and stored` +
          (paging.reportedTotal !== undefined ? ` of ${paging.reportedTotal} reported` : '');
        this.logger.warn(`${source} from ${ctx.sn} cut short: ${lastError}`);
        return { status: 'failed', lastError, response: summary('timeout') };
      }
      const parsed = parseCommandReply(source, reply);
      if (!parsed.ok) {
        return { status: 'failed', lastError: `invalid_reply: ${parsed.reason}`, response: summary('invalid_reply') };
      }
      if (!parsed.value.success) {
        return { status: 'failed', lastError: deviceError(parsed.value.reason), response: summary('device_error') };
      }
      const packet = parsed.value.data;
      const page: ({ ok: true; rec: LogRecord } | { ok: false; rejected: RejectedLogRecord })[] = [
        ...packet.records.map((rec) => ({ ok: true as const, rec })),
        ...packet.rejected.map((rejected) => ({ ok: false as const, rejected })),
      ];
      const verdict = paging.accept(
        packet,
        page.map((p) => logRecordKey(p.ok ? p.rec.raw : p.rejected.raw)),
      );
      const fresh = verdict.fresh.map((i) => page[i]);
      await this.storePage(
        ctx.sn,
        source,
        terminal,
        fresh.flatMap((p) => (p.ok ? [p.rec] : [])),
        fresh.flatMap((p) => (p.ok ? [] : [p.rejected])),
        totals,
      );
      if (verdict.kind === 'done') return { status: 'success', response: summary(verdict.end) };
      if (paging.pages >= MAX_LOG_PAGES) {
        return {
          status: 'failed',
          lastError: `invalid_reply: more than ${MAX_LOG_PAGES} pages`,
          response: summary('too_many_pages'),
        };
      }
    }
  }

  /** Records the log cannot take (an impossible time) are kept as rejected records; the rest is stored. */
  private async storePage(
    sn: string,
    source: PulledLogSource,
    terminal: { timeZone: string; name?: string },
    records: LogRecord[],
    rejected: RejectedLogRecord[],
    totals: PullTotals,
  ): Promise<void> {
    if (records.length === 0 && rejected.length === 0) return;
    const res = await this.logs.ingest(
      records,
      { sn, source, timeZone: terminal.timeZone, ...(terminal.name ? { deviceName: terminal.name } : {}) },
      rejected,
    );
    totals.stored += res.punches.stored;
    totals.duplicates += res.punches.duplicates + res.doorEvents.duplicates;
    totals.doorEvents += res.doorEvents.stored;
    totals.photosDropped += res.photosDropped;
    totals.rejected += res.rejected;
  }
}
