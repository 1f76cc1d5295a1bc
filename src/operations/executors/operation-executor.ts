import type { CommandFrame, Json, ServerCommand } from '@app/device-protocol';
import type { OperationRecord } from '../operation.view';

/** One send-and-reply with the terminal. */
export interface ExchangeResult {
  /** The frame as sent (validated and normalised). */
  sent: CommandFrame;
  reply: Json;
}

/** What an executor may do with the terminal during one attempt of an operation. */
export interface ExecutionContext {
  readonly op: OperationRecord;
  readonly sn: string;
  readonly replyTimeoutMs: number;
  readonly pageTimeoutMs: number;
  /**
   * Sends a command and waits for its reply (matched by `ret`, and `enrollid` when both carry
   * one). Throws ProtocolError (invalid payload, nothing sent), ExchangeTimeoutError,
   * TerminalGoneError or DispatchStoppedError; the dispatcher turns those into the operation's state.
   */
  exchange(cmd: ServerCommand, payload: Json, timeoutMs?: number): Promise<ExchangeResult>;
  /** Sends a command no reply will answer (reboot). */
  sendOnly(cmd: ServerCommand, payload: Json): CommandFrame;
}

export type ExecutionResult =
  | {
      status: 'success';
      response: Json;
      /**
       * Writes that follow from the success (the server's copy of terminal users), already started
       * and never rejecting: the outcome is written alongside them and announced once both are done.
       */
      alongside?: Promise<void>;
    }
  | { status: 'failed'; lastError: string; response?: Json };

export interface OperationSpec {
  type: string;
  payload: Json;
  wireCmd?: string;
  wirePayload?: Json;
}

/** Runs the operation types that take more than one exchange (paging, per-row reads). */
export interface OperationExecutor {
  /** A problem with the operation as it would be stored, or undefined when it can be sent. */
  validate(spec: OperationSpec): string | undefined;
  execute(ctx: ExecutionContext): Promise<ExecutionResult>;
}

export function deviceError(reason: number | string | undefined): string {
  return reason === undefined ? 'device_error' : `device_error: reason ${reason}`;
}

/** Credentials whose transfer may be large (face templates, palm, photos) get the page timeout. */
export function isBulkyCredential(backupnum: unknown): boolean {
  return typeof backupnum === 'number' && backupnum >= 20;
}

/** Keeps an operation's response an audit record: a photo or other large record is stored elsewhere. */
export const RESPONSE_RECORD_LIMIT = 16_384;

export function auditCopy(frame: Json): Json {
  const record = frame.record;
  if (typeof record === 'string' && record.length > RESPONSE_RECORD_LIMIT) {
    const { record: _omitted, ...rest } = frame;
    return { ...rest, recordOmitted: true, recordLength: record.length };
  }
  return frame;
}
