import { toInt } from './coerce';
import { USERLIST_PAGE_SIZE } from './server-commands';

/** A packet as parsed (`records`) or as received (`record` / `data`). */
export interface PacketLike {
  count?: unknown;
  records?: readonly unknown[];
  record?: unknown;
  data?: unknown;
}

function rowsIn(packet: PacketLike): number {
  const list = packet.records ?? packet.record ?? packet.data;
  return Array.isArray(list) ? list.length : 0;
}

/**
 * getuserlist: `count` is the number of rows in this packet and a full packet holds 40, so the
 * transfer is over on a packet with fewer rows (an empty one included). The caller still stops on a
 * per-packet timeout.
 */
export function userListDone(packet: PacketLike): boolean {
  return rowsIn(packet) < USERLIST_PAGE_SIZE;
}

/** Why a log read ended (what the operation's response reports). */
export type LogReadEnd = 'empty_page' | 'repeated_page' | 'no_answer_after_total';

export type LogPageVerdict =
  /** Store the page's new records (`fresh`: their positions in the page) and ask for the next page. */
  | { kind: 'more'; fresh: number[] }
  /** The transfer is over (nothing new in this page). */
  | { kind: 'done'; fresh: number[]; end: LogReadEnd };

/**
 * getnewlog / getalllog paging that cannot stop early without saying so. `count` is the total
 * of the transfer on most firmware but the page size on some, so it is never trusted alone: the
 * reader keeps asking (stn:false) after the reported total is reached and stops only on an empty
 * page, on a page that only repeats records already received, or on the per-page timeout. A
 * timeout is a clean end only once the reported total has arrived; before that, the read was cut
 * short (`timeoutIsComplete` false) and the operation must fail, with what arrived kept.
 */
export class LogPaging {
  private readonly seen = new Set<string>();
  /** Records received (new ones, rejected ones included). */
  received = 0;
  /** Pages answered. */
  pages = 0;
  /** The latest `count` the terminal reported. */
  reportedTotal: number | undefined;

  /**
   * One answered page: `keys` identify its records (`logRecordKey`). Returns whether to go on and
   * which records of the page are new.
   */
  accept(packet: { count?: unknown }, keys: readonly string[]): LogPageVerdict {
    this.pages++;
    // The closing empty page says count:0; the total is what the pages with records reported.
    if (keys.length === 0) return { kind: 'done', fresh: [], end: 'empty_page' };
    const total = toInt(packet.count);
    if (total !== undefined && total >= 0) this.reportedTotal = total;
    const fresh: number[] = [];
    keys.forEach((key, i) => {
      if (this.seen.has(key)) return;
      this.seen.add(key);
      fresh.push(i);
    });
    this.received += fresh.length;
    if (fresh.length === 0) return { kind: 'done', fresh, end: 'repeated_page' };
    return { kind: 'more', fresh };
  }

  /** A page not answered in time ends the read cleanly only once the reported total has arrived. */
  get timeoutIsComplete(): boolean {
    return this.pages > 0 && this.reportedTotal !== undefined && this.received >= this.reportedTotal;
  }
}

/** Identity of a log record within one read (a page repeated by the terminal has the same keys). */
export function logRecordKey(rec: unknown): string {
  if (rec !== null && typeof rec === 'object' && !Array.isArray(rec)) {
    const r = rec as Record<string, unknown>;
    return JSON.stringify([r.enrollid, r.time, r.mode ?? r.attmode ?? r.verify, r.inout, r.event, r.logindex]);
  }
  return JSON.stringify(rec) ?? 'undefined';
}

/**
 * Whether a log packet ends the transfer by its own `count` (an empty packet, or the rows so far
 * reaching the reported total). Readers of terminals in the field use LogPaging, which asks once
 * more after the total instead of trusting `count`.
 */
export function logListDone(received: number, packet: PacketLike): boolean {
  if (rowsIn(packet) === 0) return true;
  const total = toInt(packet.count);
  return total !== undefined && received >= total;
}
