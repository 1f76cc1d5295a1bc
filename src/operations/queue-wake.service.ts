import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { opsConfig, type OpsConfig } from '../config/ops.config';
import { OperationDispatcher } from './operation-dispatcher';
import { OperationEvents } from './operation-events';
import { TERMINAL_LINK, type TerminalLink } from './operation-ports';
import { QueueWakeRepository } from './queue-wake.repository';

/** Notes older than this are not read again; it also bounds the clock skew between instances it tolerates. */
const WINDOW_MS = 5_000;
const READ_LIMIT = 1_000;

/**
 * Cross-instance wake-up, built on the database: work queued on an instance that does not hold the
 * terminal leaves a note; every instance reads the recent notes every QUEUE_WAKE_POLL_INTERVAL and
 * kicks its dispatcher for the terminals it holds. Only latency rides on it: the dispatcher's own
 * poll (OP_POLL_INTERVAL) still finds every due operation if a note is missed.
 */
@Injectable()
export class QueueWakeService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('OperationDispatcher');
  private readonly seen = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private failing = false;

  constructor(
    private readonly repo: QueueWakeRepository,
    private readonly dispatcher: OperationDispatcher,
    private readonly events: OperationEvents,
    @Inject(TERMINAL_LINK) private readonly link: TerminalLink,
    @Inject(opsConfig.KEY) private readonly cfg: OpsConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.events.on('ready', this.onReady);
    this.schedule();
  }

  onModuleDestroy(): void {
    this.stopped = true;
    this.events.off('ready', this.onReady);
    if (this.timer) clearTimeout(this.timer);
  }

  /** Tells the other instances that these terminals have work (after a shutdown handed leases back). */
  async notify(sns: string[]): Promise<void> {
    await this.repo.touch([...new Set(sns)], new Date());
  }

  private readonly onReady = (sn: string): void => {
    if (this.link.isConnected(sn)) return;
    this.notify([sn]).catch((err: unknown) => this.logger.debug(`Wake-up note for ${sn} not written: ${String(err)}`));
  };

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.poll().finally(() => this.schedule()), this.cfg.queueWakePollMs);
    this.timer.unref();
  }

  private async poll(): Promise<void> {
    // No terminal here: nothing a note could wake.
    if (this.link.connectedSns().length === 0) return;
    let notes: { _id: string; v: number }[];
    try {
      notes = await this.repo.touchedSince(new Date(Date.now() - WINDOW_MS), READ_LIMIT);
      if (this.failing) this.logger.log('Wake-up notes readable again');
      this.failing = false;
    } catch (err) {
      if (!this.failing) this.logger.warn(`Wake-up notes not readable (the queue poll still runs): ${String(err)}`);
      this.failing = true;
      return;
    }
    const current = new Set<string>();
    for (const note of notes) {
      current.add(note._id);
      if (this.seen.get(note._id) === note.v) continue;
      this.seen.set(note._id, note.v);
      if (this.link.isConnected(note._id)) this.dispatcher.kick(note._id);
    }
    for (const sn of this.seen.keys()) if (!current.has(sn)) this.seen.delete(sn);
  }
}
