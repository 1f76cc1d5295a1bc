import { Inject, Injectable, Logger } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import {
  buildCheckliveReply,
  buildNotRegisteredReply,
  buildQrcodeReply,
  buildRegReply,
  buildSendlogReply,
  buildSenduserReply,
  buildUnknownRequestReply,
  type Json,
  parseQrcode,
  parseReg,
  parseSendlog,
  parseSenduser,
  toStr,
} from '@app/device-protocol';
import { devicesConfig } from '../config/devices.config';
import { cloudtimeFor } from './cloudtime';
import { DeviceConnectionRegistry } from './device-connection.registry';
import { DeviceUsersService } from './device-users.service';
import { DevicesService } from './devices.service';
import { storableObject } from './storable';
import { TerminalFieldService } from './terminal-field.service';
import { TerminalLogsService } from './terminal-logs.service';
import { TerminalSession } from './terminal-session';
import { describeError } from '@app/common';

const REPLACED_CLOSE_CODE = 4000;
const REFUSED_CLOSE_CODE = 4003;

/** What terminals ask of the server on their own (`cmd` frames): registration, logs, users, QR codes. */
@Injectable()
export class TerminalRequestsService {
  private readonly logger = new Logger('TerminalGateway');

  constructor(
    private readonly registry: DeviceConnectionRegistry,
    private readonly devices: DevicesService,
    private readonly logs: TerminalLogsService,
    private readonly users: DeviceUsersService,
    private readonly field: TerminalFieldService,
    @Inject(devicesConfig.KEY) private readonly cfg: ConfigType<typeof devicesConfig>,
  ) {}

  async handle(session: TerminalSession, cmd: string, msg: Json): Promise<void> {
    if (!session.open) return;
    if (cmd === 'reg') return this.handleReg(session, msg);
    if (!session.ready || !session.sn) {
      // A terminal waits on its sendlog/senduser: it gets a refusal (it registers and resends).
      if (cmd === 'sendlog' || cmd === 'senduser') {
        session.warn(`"${cmd}" before registration refused (result:false)`);
        session.sendFrame(buildNotRegisteredReply(cmd));
        return;
      }
      session.warn(`"${cmd}" before registration dropped`);
      return;
    }
    const sn = session.sn;
    if (msg.sn !== undefined && toStr(msg.sn)?.trim() !== sn) {
      session.warn(`"${cmd}" names sn ${JSON.stringify(msg.sn)}; handled as ${sn}, the sn this socket registered`);
    }
    const frame = { ...msg, sn };
    switch (cmd) {
      case 'sendlog':
        return this.handleSendlog(session, sn, frame);
      case 'senduser':
        return this.handleSenduser(session, sn, frame);
      case 'sendqrcode':
        return this.handleQrcode(session, sn, frame);
      case 'checklive':
        return this.handleChecklive(session, sn);
      default:
        this.logger.debug(`${sn}: unknown request "${cmd}" answered with result:true`);
        session.sendFrame(buildUnknownRequestReply(cmd));
    }
  }

  private async handleReg(session: TerminalSession, msg: Json): Promise<void> {
    const parsed = parseReg(msg);
    if (!parsed.ok) {
      session.warn(`reg refused: ${parsed.reason}`);
      session.sendFrame(buildRegReply({ ok: false, reason: 'Invalid serial number' }));
      session.closeReason = 'invalid_reg';
      session.ws.close(REFUSED_CLOSE_CODE, 'invalid reg');
      return;
    }
    const { sn, cpusn } = parsed.value;
    if (session.sn !== undefined && session.sn !== sn) {
      // One socket is one terminal: the first registration stays, the second is answered no.
      session.warn(`reg for ${sn} on a socket registered as ${session.sn} refused (result:false)`);
      session.sendFrame(buildRegReply({ ok: false, reason: `This connection is registered as ${session.sn}` }));
      return;
    }
    const existing = await this.devices.findAdmission(sn);
    if (!session.open) return;
    if (!this.devices.isAdmitted(sn, existing)) {
      this.logger.warn(`${sn}: registration refused (allow-list) from ${session.remoteAddress ?? 'unknown address'}`);
      session.sendFrame(buildRegReply({ ok: false, reason: this.cfg.allowListReason }));
      session.closeReason = 'refused';
      session.ws.close(REFUSED_CLOSE_CODE, 'not allowed');
      return;
    }

    const firstOnSocket = !session.ready;
    if (session.sn === undefined) {
      session.sn = sn;
      const previous = this.registry.claim(sn, session);
      if (previous instanceof TerminalSession) {
        // The replaced socket is no longer the terminal's: its close must not report anything.
        previous.released = true;
        previous.closeReason = 'replaced';
        session.supersedes.push(previous.id, ...previous.supersedes);
        this.logger.debug(`${sn}: new connection from ${session.remoteAddress ?? '?'} replaces the previous one`);
        previous.ws.close(REPLACED_CLOSE_CODE, 'replaced by a new connection');
      }
    }
    if (!this.registry.isCurrent(sn, session)) return;

    const devinfo = storableObject(parsed.value.devinfo);
    const doc = await this.devices.recordRegistration({
      sn,
      ...(cpusn !== undefined ? { cpusn } : {}),
      devinfo,
      ...(typeof devinfo.firmware === 'string' ? { firmware: devinfo.firmware } : {}),
      ...(typeof devinfo.modelname === 'string' ? { model: devinfo.modelname } : {}),
      ...(session.remoteAddress !== undefined ? { remoteAddress: session.remoteAddress } : {}),
      urlPath: session.urlPath,
      instanceId: this.registry.instanceId,
      connectionId: session.id,
      at: new Date(session.lastLifeAt),
      firstOnSocket,
    });
    if (!session.open || !this.registry.isCurrent(sn, session)) return;
    session.lastSeenWrittenAt = Date.now();
    session.lastSeenWrittenLife = session.lastLifeAt;
    const cloudtime = cloudtimeFor(doc.timeZone ?? this.cfg.defaultTimeZone, this.cfg.defaultTimeZone);
    session.sendFrame(buildRegReply({ ok: true, cloudtime, nosenduser: this.cfg.noSendUser }));
    session.ready = true;
    if (firstOnSocket) {
      // Per connection: debug (1,000 terminals reconnecting must not flood the info log; metrics count them).
      this.logger.debug(
        `${sn}: registered (${doc.model ?? 'unknown model'}, firmware ${doc.firmware ?? '?'}) from ${session.remoteAddress ?? '?'} on ${session.urlPath}`,
      );
    }
    this.registry.announceRegistered(sn, session, devinfo, firstOnSocket);
    if (firstOnSocket) {
      this.field
        .recordRegClock(sn, devinfo.time, doc.timeZone ?? this.cfg.defaultTimeZone, new Date(session.lastLifeAt))
        .catch((err: unknown) => this.logger.warn(`${sn}: clock offset not recorded: ${describeError(err)}`));
    }
  }

  private async handleSendlog(session: TerminalSession, sn: string, msg: Json): Promise<void> {
    const parsed = parseSendlog(msg);
    if (!parsed.ok) {
      session.warn(`sendlog refused (result:false): ${parsed.reason}`);
      session.sendFrame(buildSendlogReply({ ok: false, reason: 1 }));
      return;
    }
    const { records, rejected, count, logindex } = parsed.value;
    const receivedAt = new Date();
    let timeZone = this.cfg.defaultTimeZone;
    try {
      const ctx = await this.devices.frameContext(sn);
      timeZone = ctx.timeZone;
      // Records that cannot be stored are kept as rejected records; the frame is acknowledged so
      // the terminal moves on (only a database failure makes it resend).
      const result = await this.logs.ingest(
        records,
        {
          sn,
          source: 'sendlog',
          timeZone,
          ...(ctx.name ? { deviceName: ctx.name } : {}),
          ...(logindex !== undefined ? { logindex } : {}),
        },
        rejected,
      );
      this.logger.debug(
        `${sn}: sendlog of ${records.length + rejected.length} (punches ${result.punches.stored} new / ${result.punches.duplicates} known, door events ${result.doorEvents.stored} / ${result.doorEvents.duplicates}, rejected ${result.rejected})`,
      );
      if (result.clockSuspect > 0) {
        this.field
          .recordSendlogClock(sn, result.latest, receivedAt)
          .catch((err: unknown) => this.logger.warn(`${sn}: clock offset not recorded: ${describeError(err)}`));
      }
    } catch (err) {
      this.logger.error(`${sn}: sendlog not stored, the terminal will resend: ${describeError(err)}`);
      session.sendFrame(buildSendlogReply({ ok: false, reason: 1 }));
      return;
    }
    session.sendFrame(
      buildSendlogReply({
        ok: true,
        count,
        logindex,
        cloudtime: cloudtimeFor(timeZone, this.cfg.defaultTimeZone),
        access: 1,
      }),
    );
  }

  private async handleSenduser(session: TerminalSession, sn: string, msg: Json): Promise<void> {
    const parsed = parseSenduser(msg);
    if (!parsed.ok) {
      session.warn(`senduser refused (result:false): ${parsed.reason}`);
      session.sendFrame(buildSenduserReply({ ok: false, reason: 1 }));
      return;
    }
    const u = parsed.value;
    const receivedAt = new Date();
    let timeZone = this.cfg.defaultTimeZone;
    try {
      timeZone = (await this.devices.frameContext(sn)).timeZone;
      const fields = {
        enrollid: u.enrollid,
        ...(u.name !== undefined ? { name: u.name } : {}),
        ...(u.admin !== undefined ? { admin: u.admin } : {}),
      };
      if (u.backupnum !== undefined) {
        await this.users.upsertCredential(sn, {
          ...fields,
          backupnum: u.backupnum,
          ...(u.record !== undefined ? { record: u.record } : {}),
        });
      } else {
        await this.users.upsertUser(sn, fields);
      }
      this.registry.announceUserReceived({ sn, ...fields, ...pickCredential(u), receivedAt });
    } catch (err) {
      this.logger.error(`${sn}: senduser not stored: ${describeError(err)}`);
      session.sendFrame(buildSenduserReply({ ok: false, reason: 1 }));
      return;
    }
    session.sendFrame(
      buildSenduserReply({
        ok: true,
        cloudtime: cloudtimeFor(timeZone, this.cfg.defaultTimeZone),
        enrollid: u.enrollid,
        ...(u.backupnum !== undefined ? { backupnum: u.backupnum } : {}),
      }),
    );
  }

  private async handleChecklive(session: TerminalSession, sn: string): Promise<void> {
    const { timeZone } = await this.devices.frameContext(sn);
    session.sendFrame(buildCheckliveReply(cloudtimeFor(timeZone, this.cfg.defaultTimeZone)));
  }

  private handleQrcode(session: TerminalSession, sn: string, msg: Json): void {
    const parsed = parseQrcode(msg);
    if (!parsed.ok) {
      session.warn(`sendqrcode refused (result:false): ${parsed.reason}`);
      session.sendFrame(buildQrcodeReply({ ok: false, sn, reason: 1 }));
      return;
    }
    this.logger.debug(
      `${sn}: QR code scanned; access ${this.cfg.qrcodeAccess ? 'granted' : 'denied'} by configuration`,
    );
    session.sendFrame(
      buildQrcodeReply({ ok: true, sn, access: this.cfg.qrcodeAccess ? 1 : 0, message: this.cfg.qrcodeMessage }),
    );
  }
}

function pickCredential(u: { backupnum?: number; record?: string | number }) {
  return {
    ...(u.backupnum !== undefined ? { backupnum: u.backupnum } : {}),
    ...(u.record !== undefined ? { record: u.record } : {}),
  };
}
