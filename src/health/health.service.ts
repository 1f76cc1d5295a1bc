import { Inject, Injectable } from '@nestjs/common';
import { InjectConnection } from '@nestjs/mongoose';
import { ConnectionStates, type Connection } from 'mongoose';
import { opsConfig, type OpsConfig } from '../config/ops.config';
import { embeddedDatabaseMemory } from '../database/embedded-database';
import { ForwardBacklogService } from '../fingerprints/forward-backlog.service';

/** Anything that can say whether it is up (the terminal gateway registers one). */
export abstract class HealthIndicator {
  abstract readonly name: string;
  abstract isUp(): boolean | Promise<boolean>;
}

export interface HealthReport {
  success: boolean;
  status: 'ok' | 'degraded' | 'draining';
  checks: Record<string, string>;
  forwarding?: { backlog: number; oldestAgeSeconds: number; maxAgeSeconds: number };
  /** The in-process embedded database's memory budget (absent with MONGODB_URI). */
  embeddedDatabase?: { state: string; usedMB: number; limitMB: number; ratio: number };
  uptimeSeconds: number;
}

@Injectable()
export class HealthService {
  private readonly indicators: HealthIndicator[] = [];
  private draining = false;

  constructor(
    @InjectConnection() private readonly connection: Connection,
    private readonly backlog: ForwardBacklogService,
    @Inject(opsConfig.KEY) private readonly cfg: OpsConfig,
  ) {}

  register(indicator: HealthIndicator): void {
    this.indicators.push(indicator);
  }

  /** SIGTERM: readiness answers 503 from now on, so balancers stop sending before the ports close. */
  startDraining(): void {
    this.draining = true;
  }

  get isDraining(): boolean {
    return this.draining;
  }

  /** Readiness: database reachable, every indicator (the gateway) up, not draining. */
  async ready(): Promise<HealthReport> {
    const checks = await this.dependencyChecks();
    const up = Object.values(checks).every((v) => v === 'up');
    const success = up && !this.draining;
    return {
      success,
      status: this.draining ? 'draining' : up ? 'ok' : 'degraded',
      checks,
      uptimeSeconds: Math.round(process.uptime()),
    };
  }

  /**
   * The overview: readiness plus the forwarding backlog. A backlog older than
   * HEALTH_FORWARD_BACKLOG_MAX_AGE makes it `degraded` (the HR server is behind, not this instance,
   * so it still answers 200); a dependency down or draining answers 503.
   */
  async check(): Promise<HealthReport> {
    const report = await this.ready();
    const maxAgeSeconds = Math.round(this.cfg.forwardBacklogMaxAgeMs / 1000);
    try {
      const backlog = await this.backlog.read(Math.min(this.cfg.metricsDbRefreshMs, 5_000));
      const stale = backlog.oldestAgeMs > this.cfg.forwardBacklogMaxAgeMs;
      report.checks.forwarding = stale ? 'behind' : 'up';
      report.forwarding = {
        backlog: backlog.count,
        oldestAgeSeconds: Math.round(backlog.oldestAgeMs / 1000),
        maxAgeSeconds,
      };
      if (stale && report.status === 'ok') report.status = 'degraded';
    } catch {
      report.checks.forwarding = 'unknown';
    }
    this.addEmbeddedMemory(report);
    return report;
  }

  /**
   * Past 80% of its budget the embedded database is `degraded`; past 95% it refuses writes (`full`):
   * still 200, because reads work and the fix is the operator's (raise the budget, delete old data,
   * or move to MongoDB), not a restart of this instance.
   */
  private addEmbeddedMemory(report: HealthReport): void {
    const memory = embeddedDatabaseMemory();
    if (!memory) return;
    const mb = (bytes: number) => Math.round(bytes / 2 ** 20);
    report.checks.embeddedDatabaseMemory = memory.state;
    report.embeddedDatabase = {
      state: memory.state,
      usedMB: mb(memory.usedBytes),
      limitMB: mb(memory.limitBytes),
      ratio: Math.round(memory.ratio * 1000) / 1000,
    };
    if (memory.degraded && report.status === 'ok') report.status = 'degraded';
  }

  private async dependencyChecks(): Promise<Record<string, string>> {
    const checks: Record<string, string> = { database: (await this.databaseUp()) ? 'up' : 'down' };
    for (const indicator of this.indicators) {
      let up = false;
      try {
        up = await indicator.isUp();
      } catch {
        up = false;
      }
      checks[indicator.name] = up ? 'up' : 'down';
    }
    return checks;
  }

  private async databaseUp(): Promise<boolean> {
    const db = this.connection.db;
    if (this.connection.readyState !== ConnectionStates.connected || !db) return false;
    try {
      await db.command({ ping: 1 }, { timeoutMS: 2000 });
      return true;
    } catch {
      return false;
    }
  }
}
