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
import { StoredUsersService } from './stored-users/stored-users.service';
import { DevicesService } from './devices.service';
import { DoorAccessService } from './door-access.service';
import { storableObject } from './storable';
import { TerminalFieldService } from './terminal-field.service';
import { TerminalLogsService } from './terminal-logs.service';
import { capDevinfo } from './terminal-identity';
import { TerminalSession } from './terminal-session';
import { TerminalTrustService } from './terminal-trust.service';
import { describeError } from '@app/common';

const REFUSED_CLOSE_CODE = 4003;
/** 1013 (try again later): the server could not record the registration. */
const RETRY_CLOSE_CODE = 1013;

/** What terminals ask of the server on their own (`cmd` frames): registration, logs, users, QR codes. */
@Injectable()
export class TerminalRequestsService {
  private readonly logger = new Logger('TerminalRequests');

  constructor(
    private readonly registry: DeviceConnectionRegistry,
    private readonly devices: DevicesService,
    private readonly logs: TerminalLogsService,
    private readonly users: StoredUsersService,
    private readonly field: TerminalFieldService,
    private readonly trust: TerminalTrustService,
    private readonly access: DoorAccessService,
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
      case 'sendpin':
        // A PIN names no enroll id the server could check: only DEVICE_ACCESS_POLICY=always opens.
        session.sendFrame({ ret: 'sendpin', result: true, access: this.access.forUncheckable() });
        return;
      default: {
        const reply = buildUnknownRequestReply(cmd);
        this.logger.debug(`${sn}: unknown request "${String(reply.ret)}" answered with result:true`);
        session.sendFrame(reply);
      }
    }
  }

  private async handleReg(session: TerminalSession, msg: Json): Promise<void> {
    const parsed = parseReg(msg);
    if (!parsed.ok) {
      session.warn(`reg refused: ${parsed.reason}`);
      session.sendFrame(buildRegReply({ ok: false, reason: 'Invalid serial number' }));
      session.close('invalid_reg', REFUSED_CLOSE_CODE, 'invalid reg');
      return;
    }
    const { sn, cpusn } = parsed.value;
    if (session.sn !== undefined && session.sn !== sn) {
      // One socket is one terminal: the first registration stays, the second is answered no.
      session.warn(`reg for ${sn} on a socket registered as ${session.sn} refused (result:false)`);
      session.sendFrame(buildRegReply({ ok: false, reason: `This connection is registered as ${session.sn}` }));
      return;
    }
    const { devinfo, cut } = capDevinfo(storableObject(parsed.value.devinfo), this.cfg.devinfoMaxBytes);
    if (cut)
      session.warn(
        `devinfo larger than DEVICE_DEVINFO_MAX (${this.cfg.devinfoMaxBytes} bytes): cut to its known fields`,
      );
    const decision = await this.trust.checkRegistration(session, {
      sn,
      ...(cpusn !== undefined ? { cpusn } : {}),
      devinfo,
      ...(session.remoteAddress !== undefined ? { remoteAddress: session.remoteAddress } : {}),
      firstOnSocket: session.sn === undefined,
    });
    if (!session.open) return;
    if (!decision.ok) {
      session.sendFrame(buildRegReply({ ok: false, reason: decision.reason }));
      session.close(
        decision.closeReason,
        REFUSED_CLOSE_CODE,
        decision.closeReason === 'pending' ? 'awaiting approval' : 'not allowed',
      );
      return;
    }

    const firstOnSocket = !session.ready;
    if (session.sn === undefined) {
      session.bind(sn);
      const previous = this.registry.claim(sn, session);
      if (previous instanceof TerminalSession) {
        // The replaced socket is no longer the terminal's: its close must not report anything. It
        // failed its liveness ping (or lost a race): a half-open socket would never finish a close handshake.
        this.logger.debug(`${sn}: new connection from ${session.remoteAddress ?? '?'} replaces the previous one`);
        session.replace(previous);
      }
    }
    if (!this.registry.isCurrent(sn, session)) return;

    const timeZone = decision.known?.timeZone ?? this.cfg.defaultTimeZone;
    const at = new Date(session.lastLifeAt);
    const clock = firstOnSocket ? this.field.regClock(sn, devinfo.time, timeZone, at) : undefined;
    const written = this.devices.recordRegistration({
      sn,
      ...(cpusn !== undefined ? { cpusn } : {}),
      devinfo,
      ...(typeof devinfo.firmware === 'string' ? { firmware: devinfo.firmware } : {}),
      ...(typeof devinfo.modelname === 'string' ? { model: devinfo.modelname } : {}),
      ...(session.remoteAddress !== undefined ? { remoteAddress: session.remoteAddress } : {}),
      urlPath: session.urlPath,
      instanceId: this.registry.instanceId,
      connectionId: session.id,
      at,
      firstOnSocket,
      ...(decision.pin !== undefined ? { identity: decision.pin } : {}),
      ...(clock !== undefined ? { clock } : {}),
    });
    if (decision.pin !== undefined) {
      // A hardware identity pinned now is what refuses an impostor later: durable before the reply.
      await written;
    } else {
      // The rest is lease state (online, connection, devinfo, clock), written with the other
      // registrations of the moment; a failed write ends the socket, and the terminal registers again.
      written.catch((err: unknown) => {
        if (!session.open || !this.registry.isCurrent(sn, session)) return;
        session.warn(`registration not recorded (${describeError(err)}): socket closed, the terminal registers again`);
        session.close('registration_not_recorded', RETRY_CLOSE_CODE, 'registration not recorded');
      });
    }
    if (!session.open || !this.registry.isCurrent(sn, session)) return;
    const cloudtime = cloudtimeFor(timeZone, this.cfg.defaultTimeZone);
    session.sendFrame(buildRegReply({ ok: true, cloudtime, nosenduser: this.cfg.noSendUser }));
    session.registered();
    if (firstOnSocket) {
      // Per connection: debug (1,000 terminals reconnecting must not flood the info log; metrics count them).
      this.logger.debug(
        `${sn}: registered (${typeof devinfo.modelname === 'string' ? devinfo.modelname : (decision.known?.model ?? 'unknown model')}, firmware ${typeof devinfo.firmware === 'string' ? devinfo.firmware : (decision.known?.firmware ?? '?')}) from ${session.remoteAddress ?? '?'} on ${session.urlPath}`,
      );
    }
    this.registry.announceRegistered(sn, session, devinfo, firstOnSocket);
  }

  private async handleSendlog(session: TerminalSession, sn: string, msg: Json): Promise<void> {
    const list = Array.isArray(msg.record) ? msg.record : Array.isArray(msg.data) ? msg.data : [];
    if (list.length > this.cfg.sendlogMaxRecords) {
      // Refused before any record is read: storing thousands at once would hold the event loop.
      session.warn(`sendlog refused (result:false): ${list.length} records, more than DEVICE_SENDLOG_MAX_RECORDS`);
      session.sendFrame(buildSendlogReply({ ok: false, reason: 1 }));
      return;
    }
    const parsed = parseSendlog(msg);
    if (!parsed.ok) {
      session.warn(`sendlog refused (result:false): ${parsed.reason}`);
      session.sendFrame(buildSendlogReply({ ok: false, reason: 1 }));
      return;
    }
    const { records, rejected, count, logindex } = parsed.value;
    const receivedAt = new Date();
    let timeZone = this.cfg.defaultTimeZone;
    let access: 0 | 1 = 0;
    // Read while the records are being written: the door decision adds no round trip to the ack.
    // One read of the frame's employees serves the door decision and the punch store.
    const employees = this.access.employeesOf(records);
    employees?.catch(() => undefined);
    const deciding = this.access.forRecords(sn, records, employees);
    deciding.catch(() => undefined);
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
          ...(employees ? { employees } : {}),
        },
        rejected,
      );
      // A record the server could not read names nobody it can vouch for: the door stays shut.
      access = rejected.length > 0 ? 0 : await deciding;
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
        access,
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
    // A QR text names no enroll id the server knows: under `known` the operator's DEVICE_QRCODE_ACCESS decides.
    const access = this.access.policy === 'known' ? (this.cfg.qrcodeAccess ? 1 : 0) : this.access.forUncheckable();
    this.logger.debug(`${sn}: QR code scanned; access ${access === 1 ? 'granted' : 'denied'}`);
    session.sendFrame(buildQrcodeReply({ ok: true, sn, access, message: this.cfg.qrcodeMessage }));
  }
}

function pickCredential(u: { backupnum?: number; record?: string | number }) {
  return {
    ...(u.backupnum !== undefined ? { backupnum: u.backupnum } : {}),
    ...(u.record !== undefined ? { record: u.record } : {}),
  };
}
