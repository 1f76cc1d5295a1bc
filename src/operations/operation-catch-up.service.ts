import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit, Optional } from '@nestjs/common';
import { describeError } from '@app/common';
import { toInt } from '@app/device-protocol';
import { OperationEvents } from './operation-events';
import {
  CATCH_UP_MEMORY,
  CatchUpMemory,
  TERMINAL_LINK,
  TerminalLink,
  TerminalRegisteredEvent,
} from './operation-ports';
import { OperationRecord } from './operation.view';
import { OperationsRepository } from './operations.repository';
import { OperationsService } from './operations.service';
import { OperationStatus } from './schemas/operation.schema';

export const CATCH_UP_REQUESTER = 'system:catch-up';
/** The catch-up is tried at most this many times per registration (a terminal may ignore getnewlog). */
export const CATCH_UP_MAX_ATTEMPTS = 2;

/** Catch-up: a terminal that (re)connects with unsent punches is asked for them (getnewlog). */
@Injectable()
export class OperationCatchUpService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(OperationCatchUpService.name);

  constructor(
    private readonly operations: OperationsService,
    private readonly repo: OperationsRepository,
    private readonly events: OperationEvents,
    @Inject(TERMINAL_LINK) private readonly link: TerminalLink,
    @Optional() @Inject(CATCH_UP_MEMORY) private readonly memory?: CatchUpMemory,
  ) {}

  onModuleInit(): void {
    this.link.on('registered', this.onRegistered);
    this.events.on('finished', this.noteOutcome);
  }

  onModuleDestroy(): void {
    this.link.off('registered', this.onRegistered);
    this.events.off('finished', this.noteOutcome);
  }

  private readonly onRegistered = (e: TerminalRegisteredEvent): void => {
    if (!e.firstOnSocket) return;
    const unsent = toInt(e.devinfo.usednewlog);
    if (unsent === undefined || unsent <= 0) return;
    void this.catchUp(e.sn).catch((err: unknown) =>
      this.logger.warn(`Catch-up getnewlog for ${e.sn} not queued: ${describeError(err)}`),
    );
  };

  /**
   * Housekeeping: runs after what admins ask for, waits OP_CATCHUP_PAGE_TIMEOUT per page, is tried
   * at most twice, and is not queued again for a terminal known to ignore getnewlog.
   */
  private async catchUp(sn: string): Promise<void> {
    const known = await this.memory?.catchUpState(sn);
    if (known?.supported === false) {
      this.logger.debug(`${sn}: no catch-up getnewlog (the terminal did not answer it: ${known.lastError ?? '?'})`);
      return;
    }
    if (await this.repo.hasActive(sn, 'getnewlog')) return;
    await this.operations.enqueue(
      sn,
      'getnewlog',
      {},
      { requestedBy: CATCH_UP_REQUESTER, background: true, maxAttempts: CATCH_UP_MAX_ATTEMPTS },
    );
  }

  /**
   * Remembers whether a terminal answers getnewlog: a catch-up that never got a single page means
   * it does not (not asked again at each reg); any getnewlog that succeeds means it does.
   */
  private readonly noteOutcome = (rec: OperationRecord): void => {
    if (rec.type !== 'getnewlog' || !this.memory) return;
    let state: { supported: boolean; lastError: string | null } | undefined;
    if (rec.status === OperationStatus.Success) state = { supported: true, lastError: null };
    else if (rec.status === OperationStatus.Failed && rec.requestedBy === CATCH_UP_REQUESTER) {
      const pages = typeof rec.response?.pages === 'number' ? rec.response.pages : 0;
      const lastError = rec.lastError ?? 'failed';
      // Never a page, only timeouts: the terminal ignores getnewlog. Anything else may pass.
      state = { supported: pages > 0 || !lastError.startsWith('device_timeout'), lastError };
    }
    if (!state) return;
    this.memory.recordCatchUp(rec.sn, state.supported, state.lastError).catch((err: unknown) => {
      this.logger.warn(`${rec.sn}: catch-up outcome not recorded: ${describeError(err)}`);
    });
  };
}
