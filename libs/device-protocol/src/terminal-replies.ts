import type { Json } from './coerce';
import { ProtocolError } from './protocol-error';

const STRICT_TIME_RE = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/;

function checkCloudtime(cloudtime: string): string {
  if (!STRICT_TIME_RE.test(cloudtime)) {
    throw new ProtocolError(
      `cloudtime "${cloudtime}" is not YYYY-MM-DD HH:MM:SS (use formatTerminalTime)`,
      'cloudtime',
    );
  }
  return cloudtime;
}

function checkReason(reason: number | undefined): number {
  const r = reason ?? 1;
  if (!Number.isInteger(r)) throw new ProtocolError('reason must be an integer', 'reason');
  return r;
}

export type RegReplyOptions =
  { ok: true; cloudtime: string; nosenduser: boolean; nosendlog?: boolean } | { ok: false; reason: string };

/** Failure `reason` for reg is text the terminal shows on its screen. */
export function buildRegReply(opts: RegReplyOptions): Json {
  if (!opts.ok) return { ret: 'reg', result: false, reason: opts.reason };
  const reply: Json = {
    ret: 'reg',
    result: true,
    cloudtime: checkCloudtime(opts.cloudtime),
    nosenduser: opts.nosenduser,
  };
  if (opts.nosendlog !== undefined) reply.nosendlog = opts.nosendlog;
  return reply;
}

export type SendlogReplyOptions =
  | {
      ok: true;
      count: number | undefined;
      logindex: number | undefined;
      cloudtime: string;
      access?: number;
      message?: string;
    }
  | { ok: false; reason?: number };

/**
 * Acknowledges one sendlog frame, echoing its `count` and `logindex` (the terminal matches the ack
 * on them). `mark: true` is not in the vendor spec but some firmware resends without it.
 */
export function buildSendlogReply(opts: SendlogReplyOptions): Json {
  if (!opts.ok) return { ret: 'sendlog', result: false, reason: checkReason(opts.reason) };
  const reply: Json = { ret: 'sendlog', result: true };
  if (opts.count !== undefined) reply.count = opts.count;
  if (opts.logindex !== undefined) reply.logindex = opts.logindex;
  reply.cloudtime = checkCloudtime(opts.cloudtime);
  reply.access = opts.access ?? 1;
  if (opts.message !== undefined) reply.message = opts.message;
  reply.mark = true;
  return reply;
}

export type SenduserReplyOptions =
  { ok: true; cloudtime: string; enrollid?: number; backupnum?: number } | { ok: false; reason?: number };

export function buildSenduserReply(opts: SenduserReplyOptions): Json {
  if (!opts.ok) return { ret: 'senduser', result: false, reason: checkReason(opts.reason) };
  const reply: Json = { ret: 'senduser', result: true, cloudtime: checkCloudtime(opts.cloudtime) };
  if (opts.enrollid !== undefined) reply.enrollid = opts.enrollid;
  if (opts.backupnum !== undefined) reply.backupnum = opts.backupnum;
  return reply;
}

export const QR_FONT_SIZES = [10, 12, 14, 16, 18, 20, 22, 24, 28, 32, 40] as const;

export type QrcodeReplyOptions =
  | {
      ok: true;
      sn?: string;
      access: 0 | 1;
      enrollid?: number;
      username?: string;
      message?: string;
      voice?: string;
      fontsize?: number;
      text_color?: [number, number, number];
    }
  | { ok: false; sn?: string; reason?: number };

export function buildQrcodeReply(opts: QrcodeReplyOptions): Json {
  const head: Json = { ret: 'sendqrcode' };
  if (opts.sn !== undefined) head.sn = opts.sn;
  if (!opts.ok) return { ...head, result: false, reason: checkReason(opts.reason) };
  const reply: Json = { ...head, result: true, access: opts.access };
  if (opts.enrollid !== undefined) reply.enrollid = opts.enrollid;
  if (opts.username !== undefined) reply.username = opts.username;
  if (opts.message !== undefined) reply.message = opts.message;
  if (opts.voice !== undefined) reply.voice = opts.voice;
  if (opts.fontsize !== undefined) {
    if (!(QR_FONT_SIZES as readonly number[]).includes(opts.fontsize)) {
      throw new ProtocolError(`fontsize must be one of ${QR_FONT_SIZES.join(', ')}`, 'fontsize');
    }
    reply.fontsize = opts.fontsize;
  }
  if (opts.text_color !== undefined) {
    if (opts.text_color.length !== 3 || opts.text_color.some((c) => !Number.isInteger(c) || c < 0 || c > 255)) {
      throw new ProtocolError('text_color must be [r, g, b] with 0..255 integers', 'text_color');
    }
    reply.text_color = [...opts.text_color];
  }
  return reply;
}

/** Unknown terminal requests are answered with success so the terminal does not stall waiting. */
export function buildUnknownRequestReply(cmd: string): Json {
  return { ret: cmd, result: true };
}

/**
 * `sendlog` / `senduser` on a socket whose `reg` has not been answered: refused (the terminal
 * registers again and resends), with a text saying why beside the integer reason.
 */
export function buildNotRegisteredReply(cmd: 'sendlog' | 'senduser'): Json {
  return { ret: cmd, result: false, reason: 1, message: 'not registered: send reg first' };
}

/** `checklive` (HTTP-variant heartbeat, sent by some firmware over WebSocket too): alive, with the time. */
export function buildCheckliveReply(cloudtime: string): Json {
  return { ret: 'checklive', result: true, cloudtime: checkCloudtime(cloudtime) };
}
