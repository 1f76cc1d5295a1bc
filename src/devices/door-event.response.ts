import { doorEventMeaning } from './door-events';
import type { DoorEventRecord } from './door-events.repository';

/** `GET /api/devices/:sn/door-events` item, with the event's meaning spelled out. */
export function toDoorEventResponse(e: DoorEventRecord) {
  return {
    _id: String(e._id),
    sn: e.sn,
    event: e.event,
    eventName: e.eventName,
    description: doorEventMeaning(e.event).description,
    time: e.time,
    at: e.at,
    timeZone: e.timeZone,
    inout: e.inout,
    mode: e.mode ?? null,
    source: e.source,
    receivedAt: e.receivedAt,
  };
}
