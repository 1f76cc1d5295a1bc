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

/**
 * getnewlog / getalllog: `count` is the total of the transfer. Done when a packet is empty or when
 * `received` (all rows so far, this packet included) reaches the total. Without a usable total only
 * an empty packet ends it.
 */
export function logListDone(received: number, packet: PacketLike): boolean {
  if (rowsIn(packet) === 0) return true;
  const total = toInt(packet.count);
  return total !== undefined && received >= total;
}
