import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { journalObserver } from '@app/embedded-mongo';
import { opsConfig, type OpsConfig } from '../config/ops.config';
import { DeviceConnectionRegistry, TerminalGateway } from '../devices';
import { FingerprintsService } from '../fingerprints';
import { ForwardBacklogService } from '../fingerprints/forward-backlog.service';
import { OperationEvents, QueueStatsService, type OperationRecord } from '../operations';
import { families, registry } from './metrics';

/**
 * Fills the families that are read rather than counted: in-memory ones at every scrape, the
 * database ones (queue, forwarding backlog) at most every METRICS_DB_REFRESH, however many
 * scrapers ask.
 */
@Injectable()
export class MetricsService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('Metrics');
  private dbReadAt = 0;
  private dbReading?: Promise<void>;

  constructor(
    private readonly terminals: DeviceConnectionRegistry,
    private readonly events: OperationEvents,
    private readonly queue: QueueStatsService,
    private readonly backlog: ForwardBacklogService,
    private readonly gateway: TerminalGateway,
    private readonly punches: FingerprintsService,
    @Inject(opsConfig.KEY) private readonly cfg: OpsConfig,
  ) {}

  onModuleInit(): void {
    this.events.on('finished', this.onFinished);
    journalObserver.onFsync = (seconds, bytes) => {
      families.journalFsync.observe(seconds);
      families.journalBytes.set(bytes);
    };
  }

  onModuleDestroy(): void {
    this.events.off('finished', this.onFinished);
  }

  get contentType(): string {
    return registry.contentType;
  }

  /** The exposition text, after refreshing what is read rather than counted. */
  async render(): Promise<string> {
    families.terminalsOnline.set(this.terminals.connectedSns().length);
    const admission = this.gateway.admissionStats;
    families.terminalConnections.set({ state: 'accepted' }, admission.accepted);
    families.terminalConnections.set({ state: 'shed' }, admission.shed);
    families.terminalConnections.set({ state: 'awaiting_registration' }, admission.awaitingRegistration);
    families.punchFramesWaiting.set(this.punches.framesWaitingToStore);
    if (Date.now() - this.dbReadAt >= this.cfg.metricsDbRefreshMs) {
      this.dbReading ??= this.readDatabase().finally(() => {
        this.dbReading = undefined;
      });
      await this.dbReading;
    }
    return registry.metrics();
  }

  private readonly onFinished = (rec: OperationRecord): void => {
    families.operationsFinished.inc({ type: rec.type, status: rec.status });
  };

  private async readDatabase(): Promise<void> {
    const [queue, backlog] = await Promise.allSettled([
      this.queue.read(),
      this.backlog.read(this.cfg.metricsDbRefreshMs),
    ]);
    const now = Date.now();
    if (queue.status === 'fulfilled') {
      families.operations.reset();
      for (const row of queue.value.byStatusAndType) {
        families.operations.set({ status: row.status, type: row.type }, row.count);
      }
      families.queueDepth.set(queue.value.pending);
      families.queueOldest.set(
        queue.value.oldestPendingAt ? Math.max(0, now - queue.value.oldestPendingAt.getTime()) / 1000 : 0,
      );
    } else {
      this.logger.warn(`Queue metrics not read: ${String(queue.reason)}`);
    }
    if (backlog.status === 'fulfilled') {
      families.forwardBacklog.set(backlog.value.count);
      families.forwardBacklogOldest.set(backlog.value.oldestAgeMs / 1000);
    } else {
      this.logger.warn(`Forwarding backlog metrics not read: ${String(backlog.reason)}`);
    }
    this.dbReadAt = now;
  }
}
