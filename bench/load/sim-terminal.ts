import { VirtualTerminal } from '@app/device-simulator';

type Json = Record<string, unknown>;

/** libs/device-simulator's VirtualTerminal behind the small interface the load generator drives. */
export class SimTerminal {
  private readonly vt: VirtualTerminal;
  readonly commands = new Map<string, number>();
  closedUnexpectedly = false;
  private closing = false;

  constructor(
    readonly sn: string,
    url: string,
  ) {
    // No generated users (adduser would refuse their ids) and no resend during a measured window.
    this.vt = new VirtualTerminal({ sn, url, users: 0, resendUnackedAfterMs: 60_000, regResendMs: 60_000 });
    this.vt.on('command', (msg: Json) => {
      const cmd = String(msg.cmd);
      this.commands.set(cmd, (this.commands.get(cmd) ?? 0) + 1);
    });
    this.vt.on('disconnected', () => {
      if (!this.closing) this.closedUnexpectedly = true;
    });
    this.vt.on('warning', () => undefined);
    this.vt.on('error', () => undefined);
  }

  get open(): boolean {
    return this.vt.connected;
  }

  async connect(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.vt.connect(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`${this.sn}: no reg reply within ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  async sendLogs(records: Json[], timeoutMs: number): Promise<Json> {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        this.vt.sendLogs(records),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`${this.sn}: no sendlog ack within ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  close(): void {
    this.closing = true;
    this.vt.close().catch(() => undefined);
  }

  terminate(): void {
    this.closing = true;
    this.vt.drop();
  }
}
