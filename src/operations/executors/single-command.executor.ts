import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  buildCommand,
  commandExpectsReply,
  CommandFrame,
  CommandReply,
  isServerCommand,
  Json,
  parseCommandReply,
  ProtocolError,
  ServerCommand,
  toInt,
} from '@app/device-protocol';
import { DEVICE_USER_STORE, DeviceUserStore, TERMINAL_DIRECTORY, TerminalDirectory } from '../operation-ports';
import {
  auditCopy,
  deviceError,
  ExecutionContext,
  ExecutionResult,
  isBulkyCredential,
  OperationExecutor,
  OperationSpec,
} from './operation-executor';

/** Contract operation types whose wire command has another name. */
export const WIRE_ALIASES: Readonly<Record<string, ServerCommand>> = { adduserinfo: 'adduser' };

export function wireCommandOf(spec: Pick<OperationSpec, 'type' | 'wireCmd'>): ServerCommand | undefined {
  const cmd = spec.wireCmd ?? WIRE_ALIASES[spec.type] ?? spec.type;
  return isServerCommand(cmd) ? cmd : undefined;
}

/** settime without a time sends "now" in the terminal's zone, computed when it is sent. */
function needsTerminalZone(cmd: ServerCommand, payload: Json): boolean {
  return cmd === 'settime' && payload.cloudtime == null && payload.time == null && payload.timeZone == null;
}

/**
 * The default executor: one command, one reply. Also keeps the server's copy of terminal users in
 * step with what a successful command changed on the terminal.
 */
@Injectable()
export class SingleCommandExecutor implements OperationExecutor {
  private readonly logger = new Logger('SingleCommandExecutor');

  constructor(
    @Inject(DEVICE_USER_STORE) private readonly users: DeviceUserStore,
    @Inject(TERMINAL_DIRECTORY) private readonly terminals: TerminalDirectory,
  ) {}

  validate(spec: OperationSpec): string | undefined {
    const cmd = wireCommandOf(spec);
    if (!cmd) return `unknown command "${spec.wireCmd ?? spec.type}"`;
    const payload = spec.wirePayload ?? spec.payload;
    try {
      buildCommand(cmd, needsTerminalZone(cmd, payload) ? { ...payload, timeZone: 'UTC' } : payload);
      return undefined;
    } catch (err) {
      if (err instanceof ProtocolError) return err.message;
      throw err;
    }
  }

  async execute(ctx: ExecutionContext): Promise<ExecutionResult> {
    const cmd = wireCommandOf(ctx.op);
    if (!cmd) return { status: 'failed', lastError: `invalid_payload: unknown command "${ctx.op.type}"` };
    let payload: Json = ctx.op.wirePayload ?? ctx.op.payload;
    if (needsTerminalZone(cmd, payload)) {
      payload = { ...payload, timeZone: (await this.terminals.context(ctx.sn)).timeZone };
    }

    if (!commandExpectsReply(cmd)) {
      ctx.sendOnly(cmd, payload);
      return { status: 'success', response: { ret: cmd, sent: true } };
    }
    const { sent, reply } = await ctx.exchange(cmd, payload, this.timeoutFor(cmd, payload, ctx));
    const parsed = parseCommandReply(cmd, reply);
    if (!parsed.ok)
      return { status: 'failed', lastError: `invalid_reply: ${parsed.reason}`, response: auditCopy(reply) };
    if (!parsed.value.success) {
      return { status: 'failed', lastError: deviceError(parsed.value.reason), response: auditCopy(reply) };
    }
    // Written together with the outcome (one round of durable writes instead of two in a row).
    return { status: 'success', response: auditCopy(reply), alongside: this.syncServerCopy(ctx, sent, parsed.value) };
  }

  private timeoutFor(cmd: ServerCommand, payload: Json, ctx: ExecutionContext): number {
    // Remote enrolment waits for a person at the terminal; photos and face templates are large.
    if (cmd === 'adduser') return ctx.pageTimeoutMs;
    if ((cmd === 'getuserinfo' || cmd === 'setuserinfo') && isBulkyCredential(toInt(payload.backupnum))) {
      return ctx.pageTimeoutMs;
    }
    return ctx.replyTimeoutMs;
  }

  /** The terminal changed: so does the server's copy. A failure here never undoes the operation. */
  private async syncServerCopy(ctx: ExecutionContext, sent: CommandFrame, reply: CommandReply): Promise<void> {
    const sn = ctx.sn;
    const enrollid = toInt(sent.enrollid);
    const backupnum = toInt(sent.backupnum);
    try {
      const cmd: ServerCommand = sent.cmd;
      if (cmd === 'setuserinfo' && enrollid !== undefined && backupnum !== undefined) {
        await this.users.upsertCredential(sn, {
          enrollid,
          backupnum,
          record: sent.record as string | number,
          ...(typeof sent.name === 'string' ? { name: sent.name } : {}),
          ...(typeof sent.admin === 'number' ? { admin: sent.admin } : {}),
        });
      } else if (cmd === 'getuserinfo' && enrollid !== undefined && backupnum !== undefined && reply.success) {
        const data = reply.data as Json;
        if (data.record === undefined) return;
        await this.users.upsertCredential(sn, {
          enrollid,
          backupnum,
          record: data.record as string | number,
          ...(typeof data.name === 'string' ? { name: data.name } : {}),
          ...(typeof data.admin === 'number' ? { admin: data.admin } : {}),
        });
      } else if (cmd === 'adduser' && enrollid !== undefined) {
        const aliasid = ctx.op.payload.aliasid;
        await this.users.upsertUser(sn, {
          enrollid,
          ...(typeof sent.name === 'string' && sent.name !== '' ? { name: sent.name } : {}),
          ...(typeof sent.admin === 'number' ? { admin: sent.admin } : {}),
          ...(typeof aliasid === 'string' || typeof aliasid === 'number' ? { aliasid: String(aliasid) } : {}),
        });
      } else if (cmd === 'deleteuser' && enrollid !== undefined && backupnum !== undefined) {
        // 12 = every finger, 13 = the whole user: the store mirrors deleteuser's slots.
        await this.users.removeCredential(sn, enrollid, backupnum);
      } else if (cmd === 'enableuser' && enrollid !== undefined && reply.success) {
        const flag = sent.enflag;
        await this.users.setEnabled?.(sn, enrollid, flag === true || flag === 1);
      } else if (cmd === 'cleanuser' || cmd === 'initsys') {
        await this.users.replaceRoster(sn, []);
      }
    } catch (err) {
      this.logger.warn(`Server copy of ${sn}'s users not updated after ${sent.cmd}: ${String(err)}`);
    }
  }
}
